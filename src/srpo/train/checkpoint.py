"""Checkpoints: model, optimiser, scheduler, RNG and the run's position, saved and restored.

DeepSpeed's `save_checkpoint` writes the (possibly sharded) model, optimiser and scheduler
states of every rank under OUTPUT/checkpoints/step-NNNNNNN; the trainer's own state (run id,
step, epoch, position in the epoch, stage, the stage switch's rewards, counters) travels in
its client state, and each rank's RNG states go in a file next to it. Resuming loads all of it,
so the next step samples, grades and updates exactly as the uninterrupted run would have.

`export_model` writes the final policy as a Hugging Face model folder (gathered from the ZeRO-3
shards when needed). Covers: saving, loading, pruning old checkpoints, export. Does not cover:
what the catalog records about them (`srpo.catalog.runs`).
"""

from __future__ import annotations

import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from srpo.errors import InputError
from srpo.train import distributed

CHECKPOINTS = "checkpoints"


@dataclass(slots=True)
class TrainerState:
    """Where a run stands; everything a resume needs besides the weights and the optimiser."""

    run_id: str
    step: int = 0
    """Steps completed (a step: one rollout batch and its optimiser steps)."""
    epoch: int = 0
    """The epoch in progress."""
    batch_in_epoch: int = 0
    """The next batch of the epoch (its problems are positions batch * prompts_per_step on)."""
    stage: int = 1
    samples: int = 0
    """Responses trained on so far."""
    generated: int = -1
    """Responses generated so far, trained on or not (dynamic sampling leaves some out); -1 in a
    checkpoint saved before it was counted, where it equals `samples`."""
    taken_in_epoch: int = 0
    """Dynamic sampling: the epoch's problems already sampled (it takes as many as it needs)."""
    tokens: int = 0
    """Response tokens sampled so far."""
    stage_switch: dict[str, Any] = field(default_factory=dict)
    """The stage switch's state (the stage-1 rewards it has seen)."""

    def __post_init__(self) -> None:
        if self.generated < 0:  # before dynamic sampling, every response generated was trained on
            self.generated = self.samples

    def next_epoch(self) -> None:
        """Move to the start of the next epoch."""
        self.epoch, self.batch_in_epoch, self.taken_in_epoch = self.epoch + 1, 0, 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def checkpoint_root(output_dir: Path) -> Path:
    return output_dir / CHECKPOINTS


def save_checkpoint(engine: Any, output_dir: Path, state: TrainerState, *, keep_last: int) -> Path:
    """Save on every rank (DeepSpeed writes each rank's shards); returns the checkpoint folder."""
    import torch

    root = checkpoint_root(output_dir)
    tag = f"step-{state.step:07d}"
    engine.save_checkpoint(str(root), tag=tag, client_state={"srpo": state.to_dict()})
    torch.save(_rng_state(), root / tag / f"rng-rank{distributed.rank()}.pt")
    if torch.distributed.is_initialized():
        torch.distributed.barrier()
    if distributed.is_main():
        _prune(root, keep_last)
    return root / tag


def load_checkpoint(engine: Any, path: Path) -> TrainerState:
    """Restore weights, optimiser, scheduler and RNG from `path`; returns the trainer state."""
    import torch

    if not (path / f"rng-rank{distributed.rank()}.pt").is_file():
        raise InputError(
            f"--resume: {path} is not an srpo checkpoint (or saved with another number of processes)"
        )
    loaded, client = engine.load_checkpoint(str(path.parent), tag=path.name)
    if loaded is None or "srpo" not in (client or {}):
        raise InputError(f"--resume: DeepSpeed could not load the checkpoint {path}")
    _restore_rng(torch.load(path / f"rng-rank{distributed.rank()}.pt", weights_only=False))
    saved = dict(client["srpo"])
    if "schedule" in saved:  # written by an srpo that called the stage switch a schedule
        saved["stage_switch"] = saved.pop("schedule")
    return TrainerState(**saved)


def _rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def _restore_rng(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def _prune(root: Path, keep_last: int) -> None:
    found = sorted(p for p in root.glob("step-*") if p.is_dir())
    for old in found[: max(0, len(found) - max(1, keep_last))]:
        shutil.rmtree(old, ignore_errors=True)


def export_model(engine: Any, tokenizer: Any, directory: Path, *, zero_stage: int) -> None:
    """Write the policy as a Hugging Face model (rank 0), gathering ZeRO-3 shards first."""
    with distributed.gathered(engine.module, zero_stage):
        if distributed.is_main():
            directory.mkdir(parents=True, exist_ok=True)
            engine.module.save_pretrained(directory)
            tokenizer.save_pretrained(directory)
