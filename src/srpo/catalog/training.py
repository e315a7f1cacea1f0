"""Training runs in the catalog: the run's position, its stage switch, each epoch's problem set.

A training run is a `runs` row of kind `train` (created with `rollouts.start_run`, its rollouts
written with `rollouts.insert_rollouts`). This module adds what only training needs: the run's
stage, epoch, step and latest checkpoint; the step and reason of the switch to stage 2; the
`epoch_problems` of every epoch started; and, on resume, forgetting what was recorded after the
checkpoint being resumed (those samples came from weights that were not saved).

Every function takes a connection from `Catalog.writer()` (writes) or `Catalog.reader()`
(reads); the caller keeps the transaction short. Covers: the SQL. Does not cover: which
problems an epoch gets (`srpo.train.resampling`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from srpo.catalog.records import utcnow

if TYPE_CHECKING:
    import duckdb

RUN_KIND = "train"


@dataclass(frozen=True, slots=True)
class EpochProblem:
    """One problem of an epoch, in training order."""

    problem_id: str
    domain: str
    history: str
    """new, mixed, all_wrong or returned (solved before, back after return_after_epochs)."""


@dataclass(frozen=True, slots=True)
class RunPosition:
    stage: int
    epoch: int
    step: int
    checkpoint: str | None
    stage_switch_step: int | None
    stage_switch_reason: str | None


def run_position(con: duckdb.DuckDBPyConnection, run_id: str) -> RunPosition | None:
    rows = con.execute(
        "SELECT stage, epoch, step, checkpoint, stage_switch_step, stage_switch_reason FROM runs "
        "WHERE run_id = ?",
        [run_id],
    ).fetchall()
    if not rows:
        return None
    stage, epoch, step, checkpoint, switch_step, reason = rows[0]
    return RunPosition(stage or 1, epoch or 0, step or 0, checkpoint, switch_step, reason)


def set_position(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    stage: int,
    epoch: int,
    step: int,
    checkpoint: str | None = None,
) -> None:
    """Record where the run stands; `checkpoint` (when given) is the latest one saved."""
    con.execute(
        "UPDATE runs SET stage = ?, epoch = ?, step = ?, checkpoint = coalesce(?, checkpoint), "
        "updated_at = ? WHERE run_id = ?",
        [stage, epoch, step, checkpoint, utcnow(), run_id],
    )


def record_stage_switch(con: duckdb.DuckDBPyConnection, run_id: str, *, step: int, reason: str) -> None:
    con.execute(
        "UPDATE runs SET stage = 2, stage_switch_step = ?, stage_switch_reason = ?, updated_at = ? "
        "WHERE run_id = ?",
        [step, reason, utcnow(), run_id],
    )


def store_epoch(
    con: duckdb.DuckDBPyConnection, run_id: str, *, epoch: int, stage: int, problems: Sequence[EpochProblem]
) -> None:
    import pyarrow as pa

    table = pa.table(
        {
            "run_id": pa.array([run_id] * len(problems), pa.string()),
            "epoch": pa.array([epoch] * len(problems), pa.int32()),
            "position": pa.array(range(len(problems)), pa.int32()),
            "problem_id": pa.array([p.problem_id for p in problems], pa.string()),
            "domain": pa.array([p.domain for p in problems], pa.string()),
            "stage": pa.array([stage] * len(problems), pa.int32()),
            "history": pa.array([p.history for p in problems], pa.string()),
        }
    )
    con.register("srpo_epoch", table)
    try:
        con.execute("INSERT INTO epoch_problems BY NAME SELECT * FROM srpo_epoch")
    finally:
        con.unregister("srpo_epoch")


def stored_epoch(con: duckdb.DuckDBPyConnection, run_id: str, epoch: int) -> tuple[int, list[EpochProblem]]:
    """The stage and problems of an epoch the run has started ((0, []) if it has not)."""
    rows = con.execute(
        "SELECT stage, problem_id, domain, history FROM epoch_problems WHERE run_id = ? AND epoch = ? "
        "ORDER BY position",
        [run_id, epoch],
    ).fetchall()
    if not rows:
        return 0, []
    return rows[0][0], [EpochProblem(problem_id, domain, history) for _, problem_id, domain, history in rows]


def forget_after(con: duckdb.DuckDBPyConnection, run_id: str, *, step: int, epoch: int) -> int:
    """Delete the run's rollouts of steps after `step`, the epochs started after `epoch` and a
    stage switch after `step`: they came from weights newer than the checkpoint being resumed.
    Returns the number of rollouts deleted."""
    deleted = con.execute(
        "SELECT count(*) FROM rollouts WHERE run_id = ? AND step > ?", [run_id, step]
    ).fetchall()[0][0]
    con.execute("DELETE FROM rollouts WHERE run_id = ? AND step > ?", [run_id, step])
    con.execute("DELETE FROM epoch_problems WHERE run_id = ? AND epoch > ?", [run_id, epoch])
    con.execute(
        "UPDATE runs SET stage_switch_step = NULL, stage_switch_reason = NULL "
        "WHERE run_id = ? AND stage_switch_step > ?",
        [run_id, step],
    )
    return int(deleted)
