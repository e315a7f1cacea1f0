"""LeetCode-style sets (DeepCoder/rLLM, LeetCodeDataset): a `class Solution` reference and a
functional test that defines `check(candidate)` and ends with `check(Solution().method)`.

Tests are `assert` type with `entry_point = "Solution().method"`. The prelude holds the imports
LeetCode solutions assume, plus ListNode/TreeNode and their builders when a problem uses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from srpo.catalog.testspec import AssertTests
from srpo.curate.adapters.base import Adapter, Draft, field_sets, json_value, text
from srpo.errors import RowError

_PREAMBLE = re.compile(r"^\s*Please solve the programming task below[^\n]*\n+", re.IGNORECASE)
_FINAL_CHECK = re.compile(r"\n\s*check\((?P<entry>[^\n]+)\)\s*$")

IMPORTS = """\
from typing import *
from collections import *
from functools import *
from itertools import *
from heapq import *
from bisect import *
from math import *
import collections, functools, itertools, heapq, bisect, math, string, re, random, operator
"""

NODE_HELPERS = '''
class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next


class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right


def list_node(values):
    dummy = tail = ListNode()
    for value in values:
        tail.next = ListNode(value)
        tail = tail.next
    return dummy.next


def tree_node(values):
    """Build a tree from LeetCode's level-order list, where None marks a missing child."""
    if not values or values[0] is None:
        return None
    root = TreeNode(values[0])
    frontier, position = deque([root]), 1
    while frontier and position < len(values):
        node = frontier.popleft()
        for side in ("left", "right"):
            if position < len(values) and values[position] is not None:
                child = TreeNode(values[position])
                setattr(node, side, child)
                frontier.append(child)
            position += 1
    return root


def is_same_list(first, second):
    while first and second:
        if first.val != second.val:
            return False
        first, second = first.next, second.next
    return first is None and second is None


def is_same_tree(first, second):
    if first is None or second is None:
        return first is second
    return (first.val == second.val and is_same_tree(first.left, second.left)
            and is_same_tree(first.right, second.right))
'''

_NODE_WORDS = ("ListNode", "TreeNode", "list_node", "tree_node", "is_same_")


def _prelude(*sources: str) -> str:
    uses_nodes = any(word in source for source in sources for word in _NODE_WORDS)
    return IMPORTS + (NODE_HELPERS if uses_nodes else "")


def convert(row: Mapping[str, Any]) -> Draft:
    problem = text(row, "problem", "question")
    preamble = _PREAMBLE.match(problem)
    question = problem[preamble.end() :].strip() if preamble else problem.strip()
    solution = row.get("solutions", row.get("solution"))
    if isinstance(solution, list):
        solution = next((s for s in solution if isinstance(s, str)), None)
    if solution is not None and not isinstance(solution, str):
        raise RowError("solutions", "expected a string or a list of strings")
    tests = json_value(row, "tests", (dict,))
    functional = tests.get("functional")
    if not isinstance(functional, str) or not functional.strip():
        raise RowError("tests", "no 'functional' test code")
    match = _FINAL_CHECK.search(functional)
    if match is None:
        raise RowError("tests", "functional test does not end with check(<entry point>)")
    code = functional[: match.start()].rstrip() + "\n"
    metadata: dict[str, Any] = {"entry_point": match.group("entry").strip()}
    if preamble:
        metadata["instruction_removed"] = preamble.group(0).strip()
    return Draft(
        domain="code",
        question=question,
        solution=solution,
        tests=AssertTests(
            code=code,
            entry_point=metadata["entry_point"],
            prelude=_prelude(question, code, solution or ""),
        ),
        metadata=metadata,
    )


def detect(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    fields = field_sets(rows)
    if {"problem", "tests"} <= fields and ({"solutions", "solution"} & fields):
        functional = all("functional" in str(row["tests"])[:40] for row in rows)
        return 0.95 if functional else 0.0
    return 0.0


ADAPTER = Adapter(
    name="leetcode",
    description="LeetCode-style: class Solution reference + functional check(candidate) tests",
    convert=convert,
    detect=detect,
)
