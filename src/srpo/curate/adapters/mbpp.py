"""MBPP, full (`text`, `code`, `test_list`, `test_setup_code`, `challenge_test_list`) and
sanitized (`prompt`, `code`, `test_list`, `test_imports`).

The question is the task description followed by the first test assert, which fixes the
function's name and signature (the original MBPP prompt shows the tests the same way). Tests are
`assert` type: imports, setup code, then every assert of `test_list`. The split follows the task
id ranges of the MBPP release: 1-10 prompt, 11-510 test, 511-600 validation, 601-974 train.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from srpo.catalog.testspec import AssertTests
from srpo.curate.adapters.base import Adapter, Draft, field_sets, string_list, text
from srpo.curate.rules.code import parse_solution
from srpo.errors import RowError

_SPLITS = ((1, 10, "prompt"), (11, 510, "test"), (511, 600, "validation"), (601, 974, "train"))


def _split_of(task_id: int) -> str | None:
    return next((name for low, high, name in _SPLITS if low <= task_id <= high), None)


def _task_id(row: Mapping[str, Any]) -> int:
    value = row.get("task_id")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RowError("task_id", f"expected an integer, got {value!r}") from None


def _entry_point(first_assert: str) -> str | None:
    """The first non-builtin function the assert calls: the function the task asks for."""
    try:
        tree = parse_solution(first_assert)
    except SyntaxError:
        return None
    if tree is None:
        return None
    for node in ast.walk(tree):
        called = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if called and not hasattr(builtins, node.func.id):
            return node.func.id
    return None


def convert(row: Mapping[str, Any]) -> Draft:
    description = text(row, "text", "prompt").strip()
    asserts = string_list(row, "test_list")
    if not asserts:
        raise RowError("test_list", "empty")
    task_id = _task_id(row)
    imports = string_list(row, "test_imports", required=False)
    setup = (text(row, "test_setup_code", required=False) or "").strip()
    test_code = "\n".join([*imports, *([setup] if setup else []), *asserts]) + "\n"
    code = text(row, "code", required=False)
    metadata: dict[str, Any] = {"task_id": task_id, "entry_point": _entry_point(asserts[0])}
    challenge = string_list(row, "challenge_test_list", required=False)
    if challenge:
        metadata["challenge_tests"] = challenge
    return Draft(
        domain="code",
        question=f"{description}\nYour code should pass this test:\n{asserts[0]}",
        solution=code.replace("\r\n", "\n") if code is not None else None,
        tests=AssertTests(code=test_code, entry_point=None),
        metadata=metadata,
        source_index=str(task_id),
        split=_split_of(task_id),
    )


def detect(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    fields = field_sets(rows)
    if {"code", "test_list", "task_id"} <= fields and ({"text", "prompt"} & fields):
        return 1.0
    return 0.0


ADAPTER = Adapter(
    name="mbpp",
    description="MBPP full or sanitized: description, reference code, assert test_list",
    convert=convert,
    detect=detect,
    license="CC-BY-4.0",
)
