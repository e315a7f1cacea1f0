"""The grading and verification API the reward path and `srpo-curate` call."""

from __future__ import annotations

import pytest

from srpo.catalog.testspec import StdioCase, StdioTests
from srpo.sandbox import Limits, SandboxPool
from srpo.verify.code import (
    CodeItem,
    ReferenceItem,
    extract_code,
    grade_code_batch,
    verify_reference,
    verify_references,
)

from .conftest import FAST, requires

SQUARE = {
    "type": "assert",
    "code": "def check(candidate):\n    assert candidate(3) == 9\n",
    "entry_point": "f",
}


def test_extracts_the_last_python_block():
    response = (
        "First try:\n```python\ndef f(x):\n    return 0\n```\nSample input:\n```\n3\n```\n"
        "Better:\n```Python3 title=solution.py\ndef f(x):\n    return x * x\n```\nDone.\n"
    )
    assert extract_code(response) == "def f(x):\n    return x * x\n"
    assert extract_code("~~~py\nprint(1)\n~~~\n") == "print(1)\n"
    assert extract_code("````python\nx = '```'\n````\n") == "x = '```'\n"


def test_no_python_block_means_no_code():
    assert extract_code("def f(x): return x * x") is None
    assert extract_code("```cpp\nint main() {}\n```") is None
    assert extract_code("```python\n\n```") is None
    assert extract_code("cut off:\n```python\ndef f(x):\n    return") is None


def test_batch_keeps_order_and_one_broken_item_loses_nothing(pool):
    items = [
        CodeItem(response="```python\ndef f(x):\n    return x * x\n```", tests=SQUARE),
        CodeItem(response="I think the answer is 9.", tests=SQUARE),
        CodeItem(response="def f(x):\n    return x + x\n", tests=SQUARE, is_code=True),
        CodeItem(response="def f(x):\n    return 9\n", tests='{"type": "stdio", "cases": 3}', is_code=True),
        CodeItem(response="def f(x):\n    while True: pass\n", tests=SQUARE, is_code=True),
        CodeItem(
            response="print(int(input()) ** 2)",
            tests=StdioTests(cases=(StdioCase("3\n", "9\n"),)),
            is_code=True,
        ),
    ]
    grades = grade_code_batch(items, limits=FAST, pool=pool)
    assert [g.status for g in grades] == ["passed", "no_code", "failed", "sandbox_error", "timeout", "passed"]
    assert [g.reward for g in grades] == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert grades[0].extracted == "def f(x):\n    return x * x\n" and grades[1].extracted is None
    assert "tests.cases must be list" in grades[3].failure.reason
    assert all(g.isolation == pool.isolation for i, g in enumerate(grades) if i not in (1, 3))


def test_batch_on_the_shared_pool_with_workers():
    items = [
        CodeItem(response=f"def f(x):\n    return x * {k}\n", tests=SQUARE, is_code=True) for k in range(6)
    ]
    grades = grade_code_batch(items, workers=2, limits=FAST)
    assert [g.reward for g in grades] == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def test_verify_reference_statuses(pool):
    assert (
        verify_reference("def f(x):\n    return x * x\n", SQUARE, pool=pool, limits=FAST).status == "verified"
    )
    wrong = verify_reference("def f(x):\n    return x\n", SQUARE, pool=pool, limits=FAST)
    assert wrong.status == "wrong" and wrong.reason == "failed: AssertionError"
    assert wrong.failure.got == "assert candidate(3) == 9" and len(wrong.grades) == 2
    assert verify_reference(None, SQUARE, pool=pool).reason == "no reference solution"
    assert verify_reference("x = 1", None, pool=pool).reason == "no tests"
    assert verify_reference("x = 1", {"type": "stdio", "cases": []}, pool=pool).status == "unverifiable"
    assert verify_reference("x = 1", '{"type": "tap"}', pool=pool).reason.startswith("tests: tests.type")


def test_flaky_reference_is_caught(pool):
    requires(pool, "bwrap", "unshare")  # consecutive runs of one sandbox get consecutive PIDs
    single = SandboxPool(1, pool.plan.options)
    try:
        flaky = "import os\ndef f(x):\n    return x * x if os.getpid() % 2 else 0\n"
        result = verify_reference(flaky, SQUARE, runs=2, pool=single, limits=FAST)
    finally:
        single.close()
    assert result.status == "flaky" and result.reason.startswith("passed 1 of 2 runs")


def test_verify_references_in_bulk_keeps_order(pool):
    items = [
        ReferenceItem(solution="def f(x):\n    return x * x\n", tests=SQUARE),
        ReferenceItem(solution=None, tests=SQUARE),
        ReferenceItem(solution="def f(x):\n    return -1\n", tests=SQUARE),
    ]
    statuses = [r.status for r in verify_references(items, pool=pool, limits=FAST)]
    assert statuses == ["verified", "unverifiable", "wrong"]


def test_limits_are_validated():
    with pytest.raises(ValueError, match="timeout_s"):
        Limits(timeout_s=0)
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=-1)
    assert Limits(timeout_s=9, total_timeout_s=2).for_request()["timeout_s"] == 2


def test_an_item_may_bring_its_own_limits(pool):
    patient = Limits(timeout_s=3.0, total_timeout_s=3.0)
    slow = "import time\ndef f(x):\n    time.sleep(1.5)\n    return x * x\n"
    items = [CodeItem(response=slow, tests=SQUARE, is_code=True),
             CodeItem(response=slow, tests=SQUARE, is_code=True, limits=patient)]  # fmt: skip
    assert [g.status for g in grade_code_batch(items, limits=FAST, pool=pool)] == ["timeout", "passed"]
