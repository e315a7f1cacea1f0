"""The `rollouts` table: every sample a difficulty or training run drew, with its grade.

One row per (run, epoch, problem, sample): the reward, the grader's status, the response's token
count and finish reason, (when asked) its text and extracted answer, and whether the training
run trained on it (dynamic sampling leaves groups out). Beside it, `rollout_groups` counts each
(run, epoch, problem)'s samples and correct ones: history resampling and `srpo-curate query
--next-epoch` read those counts, which every write here (and `runs.forget_after`) keeps equal to
what `rollouts` holds; nothing else keeps a problem's history.

Covers: inserting rollouts, their group counts. Does not cover: the run row (`runs`) or ratings
(`ratings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from srpo.catalog.records import utcnow
from srpo.errors import CatalogError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

COLUMNS = ("run_id", "epoch", "stage", "step", "problem_id", "sample_idx", "reward", "status",
           "response_tokens", "finish_reason", "response", "extracted", "trained")  # fmt: skip
"""The columns a `RolloutRow` fills (plus `created_at`, the time of the write)."""


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


def rollout_table(rows: Sequence[RolloutRow]) -> pa.Table:
    """The rows as an Arrow table with the columns of `rollouts` (created_at: now), as inserted
    here and as the trainer's spool keeps them (`srpo.catalog.spool`)."""
    import pyarrow as pa

    data = {name: [getattr(row, name) for row in rows] for name in COLUMNS}
    types = {"epoch": pa.int32(), "stage": pa.int32(), "step": pa.int64(), "sample_idx": pa.int32(),
             "reward": pa.float64(), "response_tokens": pa.int32(), "trained": pa.bool_()}  # fmt: skip
    table = pa.table({name: pa.array(values, types.get(name, pa.string())) for name, values in data.items()})
    return table.append_column("created_at", pa.array([utcnow()] * len(rows), pa.timestamp("us")))


def insert_rollouts(con: duckdb.DuckDBPyConnection, rows: Sequence[RolloutRow]) -> None:
    """Insert a batch; a (run, epoch, problem, sample) already stored is an error, never a
    silent overwrite, so a resumed run cannot sample a problem twice."""
    if rows:
        insert_rollout_table(con, rollout_table(rows))


def insert_rollout_table(
    con: duckdb.DuckDBPyConnection, table: pa.Table, *, skip_stored: bool = False
) -> int:
    """Insert rows in `rollout_table`'s shape and count them into `rollout_groups`; returns the
    rows inserted. A row whose (run, epoch, problem, sample) is already stored raises
    `CatalogError`, or with `skip_stored` is left out (landing a spool twice adds nothing).

    The table has no primary key (at 10M+ rows its index made every write slow): uniqueness is
    checked here, against the groups of the batch's runs and epochs (which the rows' order in
    the file keeps close together), and against `rollouts` only for groups the batch extends,
    which the trainer never does.
    """
    if not table.num_rows:
        return 0
    runs = sorted(set(table.column("run_id").to_pylist()))
    epochs = sorted(set(table.column("epoch").to_pylist()))
    scope = f"run_id IN ({_marks(runs)}) AND epoch IN ({_marks(epochs)})"
    source = "srpo_rollouts"
    con.register(source, table)
    try:
        _check_batch(con)
        extended = con.execute(
            "SELECT DISTINCT b.run_id, b.epoch, b.problem_id FROM srpo_rollouts b JOIN "
            f"(SELECT run_id, epoch, problem_id FROM rollout_groups WHERE {scope}) g "
            "USING (run_id, epoch, problem_id)",
            [*runs, *epochs],
        ).fetchall()
        if extended:
            source = _without_stored(con, scope, [*runs, *epochs], skip_stored=skip_stored)
        [(inserted,)] = con.execute(f"INSERT INTO rollouts BY NAME SELECT * FROM {source}").fetchall()
        _count_groups(con, source, extended=bool(extended))
    finally:
        con.unregister("srpo_rollouts")
        if source != "srpo_rollouts":
            con.unregister(source)
    return int(inserted)


def _count_groups(con: duckdb.DuckDBPyConnection, source: str, *, extended: bool) -> None:
    """Add the inserted rows to `rollout_groups`: to the groups they extend, else as new groups."""
    counts = (
        "SELECT run_id, epoch, problem_id, count(*)::INTEGER AS samples, "
        f"count(*) FILTER (status = 'correct')::INTEGER AS correct FROM {source} GROUP BY ALL"
    )
    if extended:
        con.execute(
            "UPDATE rollout_groups g SET samples = g.samples + n.samples, "
            f"correct = g.correct + n.correct FROM ({counts}) n "
            "WHERE g.run_id = n.run_id AND g.epoch = n.epoch AND g.problem_id = n.problem_id"
        )
        counts = f"SELECT n.* FROM ({counts}) n ANTI JOIN rollout_groups g USING (run_id, epoch, problem_id)"
    con.execute(f"INSERT INTO rollout_groups {counts}")


def _marks(values: list) -> str:
    return ", ".join("?" for _ in values)


def _check_batch(con: duckdb.DuckDBPyConnection) -> None:
    twice = con.execute(
        "SELECT run_id, epoch, problem_id, sample_idx FROM srpo_rollouts "
        "GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
    ).fetchall()
    if twice:
        raise CatalogError(f"rollouts: {_key(twice[0])} appears twice in one batch")


def _without_stored(con: duckdb.DuckDBPyConnection, scope: str, params: list, *, skip_stored: bool) -> str:
    """The batch without the rows already stored, registered as a table (or raise, unless
    skipping them)."""
    fresh = con.sql(
        "SELECT b.* FROM srpo_rollouts b ANTI JOIN "
        f"(SELECT run_id, epoch, problem_id, sample_idx FROM rollouts WHERE {scope}) r "
        "USING (run_id, epoch, problem_id, sample_idx)",
        params=params,
    ).to_arrow_table()
    if (
        not skip_stored
        and fresh.num_rows < con.execute("SELECT count(*) FROM srpo_rollouts").fetchall()[0][0]
    ):
        con.register("srpo_new_rollouts", fresh)
        found = con.execute(
            "SELECT run_id, epoch, problem_id, sample_idx FROM srpo_rollouts "
            "EXCEPT SELECT run_id, epoch, problem_id, sample_idx FROM srpo_new_rollouts LIMIT 1"
        ).fetchall()
        con.unregister("srpo_new_rollouts")
        raise CatalogError(f"rollouts: {_key(found[0])} is already stored; it is never overwritten")
    con.register("srpo_new_rollouts", fresh)
    return "srpo_new_rollouts"


def recount_groups(con: duckdb.DuckDBPyConnection, run_id: str, *, from_epoch: int) -> None:
    """Count the run's groups of `from_epoch` on again from `rollouts` (after rows were deleted)."""
    con.execute("DELETE FROM rollout_groups WHERE run_id = ? AND epoch >= ?", [run_id, from_epoch])
    con.execute(
        "INSERT INTO rollout_groups SELECT run_id, epoch, problem_id, count(*), "
        "count(*) FILTER (status = 'correct') FROM rollouts WHERE run_id = ? AND epoch >= ? GROUP BY ALL",
        [run_id, from_epoch],
    )


def _key(row: tuple) -> str:
    run_id, epoch, problem_id, sample_idx = row
    return f"(run {run_id}, epoch {epoch}, problem {problem_id}, sample {sample_idx})"
