"""The `rollouts` table: every sample a difficulty or training run drew, with its grade.

One row per (run, epoch, problem, sample): the reward, the grader's status, the response's token
count and finish reason, (when asked) its text and extracted answer, and whether the training
run trained on it (dynamic sampling leaves groups out). History resampling and
`srpo-curate query --next-epoch` read these rows; nothing else keeps a problem's history.

Covers: inserting rollouts. Does not cover: the run row (`runs`) or ratings (`ratings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from srpo.catalog.records import utcnow

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutRow:
    """One sample as stored in `rollouts`."""

    run_id: str
    problem_id: str
    sample_idx: int
    reward: float
    status: str
    response_tokens: int
    finish_reason: str
    response: str | None = None
    extracted: str | None = None
    epoch: int = 0
    stage: int = 0
    step: int | None = None
    trained: bool = True
    """False for a training rollout generated but left out of the update (dynamic sampling)."""


def insert_rollouts(con: duckdb.DuckDBPyConnection, rows: Sequence[RolloutRow]) -> None:
    """Insert a batch; a (run, epoch, problem, sample) already stored is an error, never a
    silent overwrite, so a resumed run cannot sample a problem twice."""
    import pyarrow as pa

    if not rows:
        return
    now = utcnow()
    columns = ("run_id", "epoch", "stage", "step", "problem_id", "sample_idx", "reward", "status",
               "response_tokens", "finish_reason", "response", "extracted", "trained")  # fmt: skip
    data = {name: [getattr(row, name) for row in rows] for name in columns}
    types = {"epoch": pa.int32(), "stage": pa.int32(), "step": pa.int64(), "sample_idx": pa.int32(),
             "reward": pa.float64(), "response_tokens": pa.int32(), "trained": pa.bool_()}  # fmt: skip
    table = pa.table({name: pa.array(values, types.get(name, pa.string())) for name, values in data.items()})
    table = table.append_column("created_at", pa.array([now] * len(rows), pa.timestamp("us")))
    con.register("srpo_rollouts", table)
    try:
        con.execute("INSERT INTO rollouts BY NAME SELECT * FROM srpo_rollouts")
    finally:
        con.unregister("srpo_rollouts")
