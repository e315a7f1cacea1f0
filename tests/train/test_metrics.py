"""Per-step metrics from graded rollouts: rewards, accuracy without the format bonus, lengths."""

from __future__ import annotations

import pytest

from srpo.train.metrics import Scored, rollout_metrics


def scored(domain: str, status: str, tokens: int, *, bonus: float = 0.0) -> Scored:
    reward = (1.0 if status == "correct" else 0.0) + bonus
    return Scored(domain=domain, reward=reward, status=status, tokens=tokens, truncated=False)


def test_accuracy_counts_the_graders_verdict_not_the_format_bonus():
    rollouts = [
        scored("math", "correct", 10, bonus=0.1), scored("math", "wrong", 30, bonus=0.1),
        scored("math", "no_answer", 50), scored("math", "correct", 20, bonus=0.1),
    ]  # fmt: skip
    metrics = rollout_metrics(rollouts, group_size=4)
    assert metrics["reward/mean"] == pytest.approx((1.1 + 0.1 + 0 + 1.1) / 4)
    assert metrics["accuracy/mean"] == metrics["accuracy/math"] == 0.5
    assert metrics["accuracy/code"] is None and metrics["response_length/code/mean"] is None
    assert metrics["response_length/math/mean"] == 27.5
    assert metrics["response_length/correct/mean"] == 15 and metrics["response_length/wrong/mean"] == 40


def test_every_step_has_the_same_keys_whatever_its_domains():
    math_only = rollout_metrics([scored("math", "correct", 4), scored("math", "correct", 6)], group_size=2)
    mixed = rollout_metrics([scored("math", "wrong", 4), scored("code", "correct", 8)], group_size=1)
    wanted = {"accuracy/mean", "accuracy/math", "accuracy/code", "response_length/math/mean",
              "response_length/code/mean", "response_length/correct/mean", "response_length/wrong/mean"}  # fmt: skip
    assert wanted <= set(math_only) and wanted <= set(mixed)
    assert math_only["response_length/wrong/mean"] is None
    assert (mixed["accuracy/math"], mixed["accuracy/code"], mixed["accuracy/mean"]) == (0.0, 1.0, 0.5)
    assert mixed["response_length/code/mean"] == 8
