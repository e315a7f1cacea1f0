"""When stage 1 (math only) ends and stage 2 (math and code) begins.

SRPO switches once the math-only stage has done its work. Two rules, either or both:
- after `switch_after_steps` steps;
- when the accuracy has plateaued: the moving average of the per-step accuracy (the share of
  responses graded correct, `accuracy/mean`; the reward would also count a format bonus) over
  a window w is computed, and the least-squares slope of its last w values (accuracy per step)
  is below `plateau_slope`. That needs 2w - 1 steps of stage 1, and at least `min_steps`.

The switch keeps the stage-1 accuracies it has seen, so a checkpoint stores them and a resumed
run decides exactly as the uninterrupted one would. Covers: the rule. Does not cover: what
the switch does to the data (`resampling`) or recording it (`srpo.catalog.runs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from srpo.train.config import StageConfig


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Means of every run of `window` consecutive values (len(values) - window + 1 of them)."""
    return [sum(values[i : i + window]) / window for i in range(len(values) - window + 1)]


def slope(values: Sequence[float]) -> float:
    """Least-squares slope of values against 0, 1, 2, ..."""
    n = len(values)
    if n < 2:
        raise ValueError("a slope needs at least two values")
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    variance = sum((x - mean_x) ** 2 for x in range(n))
    return covariance / variance


def plateau_slope(values: Sequence[float], window: int) -> float | None:
    """The slope of the last `window` moving-average values, or None while too few steps."""
    averages = moving_average(values, window)
    if len(averages) < window:
        return None
    return slope(averages[-window:])


@dataclass(slots=True)
class StageSwitch:
    """Feed it each step's accuracy; it says when to switch and why."""

    config: StageConfig
    stage1_accuracy: list[float] = field(default_factory=list)

    def observe(self, *, stage: int, step: int, accuracy: float) -> str | None:
        """After step `step` (counted from 1): `steps` or `plateau` to switch now, else None."""
        if stage != 1:
            return None
        self.stage1_accuracy.append(accuracy)
        config = self.config
        if config.switch_after_steps is not None and step >= config.switch_after_steps:
            return "steps"
        if config.plateau_window is not None and len(self.stage1_accuracy) >= config.min_steps:
            found = plateau_slope(self.stage1_accuracy, config.plateau_window)
            if found is not None and found < config.plateau_slope:
                return "plateau"
        return None

    def state(self) -> dict:
        return {"stage1_accuracy": list(self.stage1_accuracy)}

    def restore(self, state: dict) -> None:
        # Checkpoints of an earlier srpo kept the stage-1 rewards (the test then read rewards).
        values = state.get("stage1_accuracy", state.get("stage1_rewards", []))
        self.stage1_accuracy = [float(value) for value in values]
