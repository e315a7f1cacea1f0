"""The `epoch_problems` table: the problem set of every training epoch, in training order.

A training epoch's set comes from the history-resampling query (`srpo.train.resampling`) and is
stored when the epoch starts, so a resumed run trains on exactly the set it planned, and each
problem's `history` (new, mixed, all_wrong, returned) says why it is there.

Covers: storing and reading an epoch's set. Does not cover: computing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True, slots=True)
class EpochProblem:
    """One problem of an epoch, in training order."""

    problem_id: str
    domain: str
    history: str
    """new, mixed, all_wrong or returned (solved before, back after return_after_epochs)."""


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
