"""Correct programs pass in all three test formats, and the judging rules of each format hold."""

from __future__ import annotations

import textwrap

from srpo.curate.adapters.leetcode import IMPORTS, NODE_HELPERS
from srpo.verify.code import CodeItem, grade_code

from .conftest import FAST, grade

SUM_PROGRAM = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"


def stdio(*pairs: tuple[str, str]) -> dict[str, object]:
    return {"type": "stdio", "cases": [{"input": given, "output": wanted} for given, wanted in pairs]}


def test_stdio_program_passes_every_case(pool):
    graded = grade(pool, SUM_PROGRAM, stdio(("1 2 3\n", "6\n"), ("10\n-4\n", "6"), ("", "0\n")))
    assert (graded.reward, graded.status, graded.cases_passed, graded.cases_total) == (1.0, "passed", 3, 3)
    assert graded.isolation == pool.isolation


def test_stdio_ignores_trailing_whitespace_only(pool):
    padded = "print('6   ')\nprint()\nprint()\n"
    assert grade(pool, padded, stdio(("", "6\n"))).status == "passed"
    assert grade(pool, "print('6\\r')\n", stdio(("", "6\n"))).status == "passed"
    leading = grade(pool, "print(' 6')\n", stdio(("", "6\n")))
    assert leading.status == "failed"
    assert (leading.failure.expected, leading.failure.got) == ("6\n", " 6\n")


def test_stdio_reports_the_first_wrong_case_and_can_run_them_all(pool):
    tests = stdio(("1\n", "1\n"), ("2\n", "5\n"), ("3\n", "3\n"), ("4\n", "7\n"))
    echo = "print(input())\n"
    first = grade(pool, echo, tests)
    assert (first.status, first.cases_passed, first.failure.case) == ("failed", 1, 1)
    item = CodeItem(response=echo, tests=tests, is_code=True)
    every = grade_code(item, limits=FAST, pool=pool, stop_at_first_failure=False)
    assert (every.cases_passed, every.passed_fraction) == (2, 0.5)


def test_stdio_error_exit_is_a_runtime_error(pool):
    graded = grade(pool, "print(6)\nraise ValueError('late')\n", stdio(("", "6\n")))
    assert graded.status == "runtime_error"
    assert "ValueError: late" in graded.failure.reason


def test_stdio_large_input_and_common_reading_styles(pool):
    numbers = " ".join(str(i) for i in range(200_000))
    wanted = f"{sum(range(200_000))}\n"
    for reader in ("sys.stdin.read()", "open(0).read()", "sys.stdin.buffer.read().decode()"):
        source = f"import sys\nprint(sum(map(int, {reader}.split())))\n"
        assert grade(pool, source, stdio((numbers, wanted))).status == "passed", reader


def test_stdio_program_may_compute_in_a_thread_and_use_scratch_files(pool):
    source = textwrap.dedent("""
        import threading
        def main():
            with open("notes.txt", "w") as handle:
                handle.write(input())
            with open("notes.txt") as handle:
                print(handle.read().upper())
        threading.Thread(target=main).start()
    """)
    assert grade(pool, source, stdio(("abc\n", "ABC\n"))).status == "passed"


def call(fn_name: str, *cases: tuple[list, object]) -> dict[str, object]:
    return {"type": "call", "fn_name": fn_name, "cases": [{"args": a, "expected": e} for a, e in cases]}


def test_call_program_passes_by_value_and_type(pool):
    source = "def pair(a, b):\n    return (a + b, {'n': [a, b]})\n"
    graded = grade(pool, source, call("pair", ([1, 2], [3, {"n": [1, 2]}]), ([0, 0], [0, {"n": [0, 0]}])))
    assert (graded.status, graded.cases_passed) == ("passed", 2)


def test_call_types_must_match(pool):
    cases = [("1.0", 1), ("True", 1), ("'1'", 1), ("[1]", [1.0]), ("1", 1.0)]
    for returned, expected in cases:
        graded = grade(pool, f"def f():\n    return {returned}\n", call("f", ([], expected)))
        assert graded.status == "failed", (returned, expected)
        assert graded.failure.reason == "wrong value"
    assert grade(pool, "def f():\n    return 0.1 + 0.2\n", call("f", ([], 0.3))).status == "passed"


def test_call_accepts_keyword_arguments_and_solution_classes(pool):
    tests = {"type": "call", "fn_name": "twoSum",
             "cases": [{"args": [[2, 7, 11, 15]], "kwargs": {"target": 9}, "expected": [0, 1]}]}  # fmt: skip
    source = textwrap.dedent("""
        class Solution:
            def twoSum(self, nums, target):
                seen = {}
                for i, n in enumerate(nums):
                    if target - n in seen:
                        return [seen[target - n], i]
                    seen[n] = i
    """)
    assert grade(pool, source, tests).status == "passed"


def test_call_counts_cases_past_an_exception(pool):
    source = "def inv(x):\n    return 1 / x\n"
    graded = grade(pool, source, call("inv", ([2], 0.5), ([0], 0), ([4], 0.25)))
    assert (graded.status, graded.cases_passed, graded.failure.case) == ("runtime_error", 2, 1)
    assert graded.failure.reason.startswith("ZeroDivisionError")


def test_call_missing_function_is_a_runtime_error(pool):
    graded = grade(pool, "def other():\n    return 1\n", call("f", ([], 1)))
    assert graded.status == "runtime_error" and "no function 'f'" in graded.failure.reason


def test_humaneval_style_check_with_entry_point_passes(pool):
    tests = {
        "type": "assert",
        "code": "METADATA = {}\n\ndef check(candidate):\n    assert candidate([1, 2, 3]) == 6\n"
        "    assert candidate([]) == 0\n",
        "entry_point": "total",
    }
    program = "from typing import List\n\ndef total(xs: List[int]) -> int:\n    return sum(xs)\n"
    graded = grade(pool, program, tests)
    assert (graded.status, graded.cases_passed, graded.cases_total) == ("passed", 2, 2)


def test_mbpp_style_bare_asserts_pass(pool):
    tests = {"type": "assert", "entry_point": None,
             "code": "import math\nassert area(2) == math.pi * 4\nassert area(0) == 0\n"}  # fmt: skip
    program = "import math\ndef area(r):\n    return math.pi * r * r\n"
    assert grade(pool, program, tests).status == "passed"


def test_leetcode_style_prelude_and_solution_method_pass(pool):
    tests = {
        "type": "assert",
        "prelude": IMPORTS + NODE_HELPERS,
        "code": "def check(candidate):\n"
        "    assert is_same_tree(candidate(tree_node([4, 2, 7])), tree_node([4, 7, 2]))\n"
        "    assert candidate(None) is None\n",
        "entry_point": "Solution().invertTree",
    }
    program = textwrap.dedent("""
        class Solution:
            def invertTree(self, root: Optional[TreeNode]) -> Optional[TreeNode]:
                if root:
                    root.left, root.right = self.invertTree(root.right), self.invertTree(root.left)
                return root
    """)
    assert grade(pool, program, tests).status == "passed"


def test_recursive_program_and_deep_recursion_are_fine(pool):
    tests = {"type": "assert", "code": "def check(candidate):\n    assert candidate(25) == 75025\n",
             "entry_point": "fib"}  # fmt: skip
    program = "import sys\nsys.setrecursionlimit(10000)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    assert grade(pool, program, tests).status == "passed"


def test_program_syntax_error_is_a_runtime_error(pool):
    graded = grade(pool, "def f(:\n", {"type": "assert", "code": "assert f() == 1\n"})
    assert graded.status == "runtime_error" and "SyntaxError" in graded.failure.reason
