"""An epoch of a peer trainer's run, chosen by srpo's history-resampling query.

`start_epoch` does for the TRL and verl samplers what srpo-train does when an epoch begins:
write every rollout recorded so far (the query reads them), then take the epoch's set as stored
(a run that restarts mid-epoch gets exactly the set it had) or plan it with
`srpo.train.resampling.plan_epoch` (kept, verified, of the chosen difficulties, the stage's
domains; solved problems dropped; hash-shuffled by seed and epoch) and store it in
`epoch_problems`. `problem_order` turns the set into positions of the trainer's own dataset.

A process that is not the one recording (rank 1.. of a distributed TRL run) calls
`follow_epoch` instead: it waits until the recording process has stored the epoch and reads
it, so every rank walks the same order.

Covers: choosing and storing an epoch's set. Does not cover: the query itself
(`srpo.train.resampling`), sampling (the trainers' samplers).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from srpo.catalog import Catalog, runs
from srpo.catalog import epochs as stored_epochs
from srpo.catalog.epochs import EpochProblem
from srpo.errors import InputError
from srpo.integrations.recorder import RunRecorder

FOLLOW_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class StartedEpoch:
    """An epoch's problems in training order, and how resampling judged the catalog."""

    epoch: int
    problems: list[EpochProblem]
    counts: dict[str, int] = field(default_factory=dict)
    """Problems taken by history (new, mixed, all_wrong, solved, returned), dropped and
    subsampled; for a stored epoch only the histories of its problems."""


def start_epoch(recorder: RunRecorder, epoch: int) -> StartedEpoch:
    """The set of `epoch`: stored, else planned now and stored (see the module docstring)."""
    from srpo.train.resampling import plan_epoch

    recorder.flush()
    with recorder.catalog.reader() as con:
        _, stored = stored_epochs.stored_epoch(con, recorder.run_id, epoch)
    if stored:
        recorder.mark_planned(epoch, [p.problem_id for p in stored])
        return StartedEpoch(epoch, stored, _history_counts(stored))
    config = recorder.config
    with recorder.catalog.reader() as con:
        plan = plan_epoch(
            con, config.data, run_id=recorder.run_id, epoch=epoch, stage=config.stage, seed=config.seed
        )
    problems = plan.problems
    with recorder.catalog.writer() as con:
        if problems:
            stored_epochs.store_epoch(
                con, recorder.run_id, epoch=epoch, stage=config.stage, problems=problems
            )
        runs.set_position(con, recorder.run_id, stage=config.stage, epoch=epoch, step=recorder.step or 0)
    recorder.mark_planned(epoch, [p.problem_id for p in problems])
    return StartedEpoch(epoch, problems, plan.counts())


def follow_epoch(
    catalog: Catalog, run_id: str, epoch: int, *, timeout_s: float = FOLLOW_TIMEOUT_S
) -> StartedEpoch:
    """The set of `epoch` once the recording process has stored it (polled read-only)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with catalog.reader() as con:
            _, stored = stored_epochs.stored_epoch(con, run_id, epoch)
        if stored:
            return StartedEpoch(epoch, stored, _history_counts(stored))
        if time.monotonic() > deadline:
            raise InputError(
                f"run {run_id}: epoch {epoch} was not stored by the recording process within {timeout_s:.0f}s"
            )
        time.sleep(0.5)


def _history_counts(problems: Sequence[EpochProblem]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem.history] = counts.get(problem.history, 0) + 1
    return counts


def problem_order(problems: Sequence[EpochProblem], positions: Mapping[str, int], *, where: str) -> list[int]:
    """The dataset positions of an epoch's problems, in training order. Problems the trainer's
    dataset does not hold are left out, with one warning naming how many (the dataset was
    exported before they were ingested, or with other filters)."""
    order = [positions[p.problem_id] for p in problems if p.problem_id in positions]
    missing = len(problems) - len(order)
    if missing:
        warnings.warn(
            f"{where}: {missing} of the epoch's {len(problems)} problems are not in the trainer's "
            "dataset and are skipped (export it again with `srpo-curate query --export ...`)",
            RuntimeWarning,
            stacklevel=2,
        )
    return order
