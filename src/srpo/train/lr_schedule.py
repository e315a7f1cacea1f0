"""The learning-rate schedule: linear warm-up, then constant (DAPO) or cosine decay.

The schedule counts optimiser steps (`budget.max_steps x objective.updates_per_batch x
objective.mini_batches` in all) and is a multiplier of `optim.learning_rate`, applied by a torch
`LambdaLR` that DeepSpeed steps with the optimiser (so it is saved with every checkpoint).

Covers: the multiplier and the scheduler. Does not cover: the optimiser (`distributed`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from srpo.train.config import TrainConfig


def learning_rate_factor(step: int, *, warmup: int, total: int, schedule: str, min_ratio: float) -> float:
    """The multiplier of the peak learning rate after `step` optimiser steps."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def total_optimiser_steps(config: TrainConfig) -> int:
    return config.budget.max_steps * config.objective.updates_per_batch * config.objective.mini_batches


def scheduler(optimiser: Any, config: TrainConfig) -> Any:
    """A torch `LambdaLR` over `optimiser` following `config.optim`'s schedule."""
    import torch

    optim = config.optim
    total = total_optimiser_steps(config)

    def factor(step: int) -> float:
        return learning_rate_factor(
            step,
            warmup=optim.warmup_steps,
            total=total,
            schedule=optim.lr_schedule,
            min_ratio=optim.min_lr_ratio,
        )

    return torch.optim.lr_scheduler.LambdaLR(optimiser, factor)
