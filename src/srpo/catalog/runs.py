"""The `runs` table: difficulty and training runs, their settings, status and position.

A run is one row: its kind (`difficulty`, `train`, or a peer trainer's: `trl`, `verl`,
`openrlhf`), the model, the settings as JSON, its status (running, completed, failed,
interrupted) and notes. A training run also records where it stands (stage, epoch, step,
latest checkpoint) and the step and reason of its switch to stage 2; on resume, what was
recorded after the checkpoint being resumed is forgotten (those samples came from weights that
were not saved).

Every function takes a connection from `Catalog.writer()` (writes) or `Catalog.reader()`
(reads); the caller keeps the transaction short. Covers: the SQL. Does not cover: the samples
(`rollouts`), the epochs' problem sets (`epochs`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from srpo.catalog import rollouts
from srpo.catalog.records import utcnow

if TYPE_CHECKING:
    import duckdb

TRAIN_KIND = "train"
DIFFICULTY_KIND = "difficulty"
PEER_TRAINER_KINDS = ("trl", "verl", "openrlhf")
"""Training runs of other trainers, recorded by `srpo.integrations`: rollouts and epochs like
srpo-train's, so history resampling and `srpo-curate query --next-epoch` work on them too."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    kind: str
    model: str | None
    config: dict[str, Any]
    status: str


def get_run(con: duckdb.DuckDBPyConnection, run_id: str) -> RunRecord | None:
    rows = con.execute(
        "SELECT run_id, kind, model, config, status FROM runs WHERE run_id = ?", [run_id]
    ).fetchall()
    if not rows:
        return None
    run_id, kind, model, config, status = rows[0]
    return RunRecord(run_id, kind, model, json.loads(config) if config else {}, status)


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, *, kind: str, model: str, config: dict[str, Any]
) -> None:
    now = utcnow()
    con.execute(
        "INSERT INTO runs (run_id, kind, model, config, status, stage, epoch, started_at, updated_at) "
        "VALUES (?, ?, ?, ?, 'running', 0, 0, ?, ?)",
        [run_id, kind, model, json.dumps(config), now, now],
    )


def mark_run(
    con: duckdb.DuckDBPyConnection, run_id: str, *, status: str, notes: dict[str, Any] | None = None
) -> None:
    """Set a run's status (running, completed, failed, interrupted) and its notes."""
    now = utcnow()
    finished: datetime | None = None if status == "running" else now
    con.execute(
        "UPDATE runs SET status = ?, notes = coalesce(?, notes), updated_at = ?, finished_at = ? "
        "WHERE run_id = ?",
        [status, json.dumps(notes) if notes is not None else None, now, finished, run_id],
    )


# ------------------------------------------------------------------------ a training run's position


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


def forget_after(con: duckdb.DuckDBPyConnection, run_id: str, *, step: int, epoch: int) -> int:
    """Delete the run's rollouts of steps after `step`, the epochs started after `epoch` and a
    stage switch after `step`: they came from weights newer than the checkpoint being resumed.
    Returns the number of rollouts deleted."""
    [(deleted, first_epoch)] = con.execute(
        "SELECT count(*), min(epoch) FROM rollouts WHERE run_id = ? AND step > ?", [run_id, step]
    ).fetchall()
    if deleted:
        con.execute("DELETE FROM rollouts WHERE run_id = ? AND step > ?", [run_id, step])
        rollouts.recount_groups(con, run_id, from_epoch=first_epoch)
    con.execute("DELETE FROM epoch_problems WHERE run_id = ? AND epoch > ?", [run_id, epoch])
    con.execute(
        "UPDATE runs SET stage_switch_step = NULL, stage_switch_reason = NULL "
        "WHERE run_id = ? AND stage_switch_step > ?",
        [run_id, step],
    )
    return int(deleted)
