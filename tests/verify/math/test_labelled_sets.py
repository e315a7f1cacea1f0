"""The labelled grading sets (tests/data, built by bench/make_grading_sets.py).

Done-when of issue 4: zero false positives and recall of at least 0.97 on the labelled pairs,
and every reward-hacking / pathological response graded wrong within the time limit.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest

from srpo.verify.config import GraderConfig
from srpo.verify.grading import GradeItem, Grader
from tests.helpers import TEST_DATA

DATA = TEST_DATA
TIMEOUT_S = 5.0


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).open(encoding="utf-8")]


@pytest.fixture(scope="module")
def grader():
    with Grader(GraderConfig(workers=2, timeout_s=TIMEOUT_S)) as warm:
        yield warm


@pytest.mark.slow
def test_labelled_pairs_have_no_false_positive_and_high_recall(grader):
    rows = _rows("math_labelled.jsonl")
    assert len(rows) >= 400
    grades = grader.grade([GradeItem(response=r["response"], answer=r["gold"]) for r in rows])
    per_type: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # right, found, wrong, accepted
    false_positives, misses = [], []
    for row, grade in zip(rows, grades, strict=True):
        counts = per_type[row["type"]]
        accepted = grade.status == "correct"
        if row["label"]:
            counts[0] += 1
            counts[1] += accepted
            if not accepted:
                misses.append((row["gold"], grade.extracted, grade.detail))
        else:
            counts[2] += 1
            counts[3] += accepted
            if accepted:
                false_positives.append((row["gold"], grade.extracted, row["form"]))
    for kind, (right, found, wrong, accepted) in sorted(per_type.items()):
        print(f"type {kind}: recall {found}/{right}, false positives {accepted}/{wrong}")
    assert false_positives == []
    positives = sum(c[0] for c in per_type.values())
    recall = sum(c[1] for c in per_type.values()) / positives
    assert recall >= 0.97, misses[:10]


@pytest.mark.slow
def test_reward_hacks_and_pathological_responses_all_get_reward_zero(grader):
    rows = _rows("math_adversarial.jsonl")
    started = time.monotonic()
    grades = grader.grade([GradeItem(response=r["response"], answer=r["gold"]) for r in rows])
    elapsed = time.monotonic() - started
    accepted = [(row["form"], grade.detail) for row, grade in zip(rows, grades, strict=True) if grade.reward]
    assert accepted == []
    assert {g.status for g in grades} <= {"wrong", "no_answer", "timeout"}
    # never a hang: the batch ends within a few per-item limits (a hang would never end)
    assert elapsed < 6 * TIMEOUT_S
