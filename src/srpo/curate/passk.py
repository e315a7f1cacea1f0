"""Pass rates, the unbiased pass@k estimator, and difficulty buckets: pure functions.

pass@k is the chance that at least one of k samples is correct. From n samples with c correct,
the unbiased estimator (Chen et al. 2021, the Codex paper) is `1 - C(n-c, k) / C(n, k)`: the
share of k-subsets of the n samples that contain a correct one. It is computed here with exact
integers, so it is exact for any n.

Buckets follow SRPO's easy/medium/hard by pass rate, with the thresholds configurable because
peers differ (PRIME keeps 0.2-0.8, Skywork-OR1 1-15 of 16, open-r1 0.1-0.6 of 8).

Covers: the numbers. Does not cover: sampling, grading or storing them (`curate.difficulty`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from srpo.errors import InputError


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct (requires 1 <= k <= n)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def k_values(n: int) -> list[int]:
    """1, 2, 4, ... up to n, and n itself (so pass@n, 'solved at all', is always there)."""
    values = []
    k = 1
    while k <= n:
        values.append(k)
        k *= 2
    if n >= 1 and values[-1] != n:
        values.append(n)
    return values


def pass_at_k_table(correct: Sequence[bool]) -> dict[str, float]:
    """pass@k for every k in `k_values(len(correct))`, keyed by str(k) as stored in JSON."""
    n, c = len(correct), sum(bool(x) for x in correct)
    return {str(k): pass_at_k(n, c, k) for k in k_values(n)}


@dataclass(frozen=True, kw_only=True)
class DifficultyThresholds:
    """Pass-rate boundaries of the buckets (SRPO: hard below 0.2, easy from 0.8)."""

    hard_below: float = 0.2
    """A pass rate below this is `hard` (all wrong is always hard)."""
    easy_at: float = 0.8
    """A pass rate at or above this is `easy`; anything between is `medium`."""

    def validate(self) -> None:
        if not 0 <= self.hard_below <= self.easy_at <= 1:
            raise InputError(
                "thresholds.hard_below and thresholds.easy_at must satisfy 0 <= hard_below <= easy_at <= 1, "
                f"got {self.hard_below} and {self.easy_at}"
            )

    def bucket(self, pass_rate: float) -> str:
        if pass_rate < self.hard_below:
            return "hard"
        if pass_rate >= self.easy_at:
            return "easy"
        return "medium"


@dataclass(frozen=True, slots=True)
class Rating:
    """What the samples of one problem say about it."""

    problem_id: str
    samples: int
    correct: int
    pass_rate: float
    pass_at_k: dict[str, float]
    difficulty: str


def rate(problem_id: str, correct: Sequence[bool], thresholds: DifficultyThresholds) -> Rating:
    """Pass rate, pass@k table and bucket from one problem's per-sample correctness."""
    if not correct:
        raise ValueError(f"problem {problem_id}: no samples to rate")
    n, c = len(correct), sum(bool(x) for x in correct)
    pass_rate = c / n
    return Rating(
        problem_id=problem_id,
        samples=n,
        correct=c,
        pass_rate=pass_rate,
        pass_at_k=pass_at_k_table(correct),
        difficulty=thresholds.bucket(pass_rate),
    )
