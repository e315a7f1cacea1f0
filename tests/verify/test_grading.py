"""The reward API: one path for `srpo-curate grade` and the trainer, in order, losing nothing."""

from __future__ import annotations

import pytest

from srpo.verify.config import GraderConfig
from srpo.verify.grading import (
    Grade,
    GradeItem,
    Grader,
    grade,
    grade_batch,
)


@pytest.fixture(scope="module")
def grader():
    with Grader(GraderConfig(workers=2, timeout_s=5.0)) as warm:
        yield warm


def test_a_batch_keeps_its_order_and_mixes_cheap_and_algebra_items(grader):
    items = [
        GradeItem(response="so \\boxed{1,000}", answer="1000"),
        GradeItem(response="so \\boxed{\\sqrt{12}}", answer="2\\sqrt{3}"),
        GradeItem(response="nothing here", answer="5"),
        GradeItem(response="\\boxed{}", answer="5"),
        GradeItem(response="so \\boxed{(x+1)^3}", answer="x^2+2x+1"),
        GradeItem(response="The final answer is 7.", answer="7"),
        GradeItem(response="\\boxed{5}", answer=None),
    ]
    done = []
    grades = grader.grade(items, on_done=done.append)
    assert [g.status for g in grades] == [
        "correct",
        "correct",
        "no_answer",
        "wrong",
        "wrong",
        "correct",
        "error",
    ]
    assert [g.reward for g in grades] == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert grades[0].extracted == "1,000" and grades[2].extracted is None
    assert grades[3].detail == "empty box"
    assert sum(done) == len(items)


# Equal, but proving it means denesting a radical: seconds of sympy on this machine.
SLOW_GOLD = "\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7}"
SLOW_ANSWER = "\\sqrt{17+2\\sqrt{6}+2\\sqrt{10}+2\\sqrt{14}+2\\sqrt{15}+2\\sqrt{21}+2\\sqrt{35}}"


def test_a_slow_item_times_out_without_losing_the_others():
    slow = GradeItem(response=f"\\boxed{{{SLOW_ANSWER}}}", answer=SLOW_GOLD)
    items = [
        GradeItem(response="\\boxed{2}", answer="2"),
        slow,
        GradeItem(response="\\boxed{x}", answer="x"),
    ]
    grades = grade_batch(items, workers=2, timeout_s=0.3)
    assert [g.status for g in grades] == ["correct", "timeout", "correct"]
    assert "killed" in grades[1].detail and grades[1].extracted == SLOW_ANSWER


def test_grade_one_item():
    assert grade(GradeItem(response="\\boxed{\\frac{6}{8}}", answer="0.75")) == Grade(
        reward=1.0, status="correct", extracted="\\frac{6}{8}", detail="equal"
    )


STDIO = {
    "type": "stdio",
    "cases": [{"input": "2 3\n", "output": "5\n"}, {"input": "10 -4\n", "output": "6\n"}],
}


def test_code_and_math_items_share_one_batch_in_order(grader):
    right = "Sum them:\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    wrong = "```python\na, b = map(int, input().split())\nprint(a - b)\n```"
    grades = grader.grade(
        [
            GradeItem(response=right, domain="code", tests=STDIO),
            GradeItem(response="\\boxed{2}", answer="3"),
            GradeItem(response=wrong, domain="code", tests=STDIO),
            GradeItem(response="no code at all", domain="code", tests=STDIO),
            GradeItem(response="\\boxed{3}", answer="3"),
        ]
    )
    assert [(g.status, g.reward) for g in grades] == [
        ("correct", 1.0), ("wrong", 0.0), ("wrong", 0.0), ("no_answer", 0.0), ("correct", 1.0),
    ]  # fmt: skip
    assert grades[0].detail == "code: passed" and grades[0].passed_fraction == 1.0
    assert grades[2].detail == "code: failed (wrong output)" and grades[2].passed_fraction < 1.0
    assert (grades[0].code_status, grades[2].code_status, grades[3].code_status) == (
        "passed",
        "failed",
        "no_code",
    )
    assert "print(a + b)" in grades[0].extracted
    # Every code grade names the isolation it ran under (bwrap, the default minimum).
    assert (grades[0].isolation, grades[2].isolation, grades[3].isolation) == ("bwrap", "bwrap", "")
    assert grades[1].isolation is None
