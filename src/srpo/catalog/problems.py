"""Batched writes of the `problems` table, on a connection the caller holds.

Every write function expects to run inside `Catalog.writer()` (one transaction), so a batch of
problems, its invalid rows and the ingest's progress land together or not at all: a run killed
between two batches leaves a catalog that opens and a re-run that completes it.

Covers: which rows of a batch are new, inserting them, their stored statuses. Does not cover:
the ingest's own row (`ingests`) or unreadable rows (`invalid_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srpo.catalog.records import PROBLEM_COLUMNS, Problem, utcnow

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


def _problem_schema() -> pa.Schema:
    import pyarrow as pa

    types = {
        "pass_rate": pa.float64(),
        "ingest_id": pa.int64(),
        "created_at": pa.timestamp("us"),
        "updated_at": pa.timestamp("us"),
    }
    return pa.schema([(name, types.get(name, pa.string())) for name in PROBLEM_COLUMNS])


@dataclass(slots=True)
class Classified:
    """A batch split by what the catalog already holds at each row's key."""

    new: list[Problem] = field(default_factory=list)
    existing: list[Problem] = field(default_factory=list)  # same key, same raw row: skipped
    collisions: list[Problem] = field(default_factory=list)  # same key, different raw row


def _arrow(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=schema)


def _key_table(problems: Sequence[Problem]) -> pa.Table:
    import pyarrow as pa

    return pa.table({
        "source": [p.source for p in problems], "split": [p.split for p in problems],
        "source_index": [p.source_index for p in problems], "row_hash": [p.row_hash for p in problems],
    })  # fmt: skip


def classify(con: duckdb.DuckDBPyConnection, problems: Sequence[Problem]) -> Classified:
    """Which rows are new, which the catalog already holds, and which clash with a different row.

    Within the batch, a second row at the same key is `existing` when it repeats the first and
    a collision when it differs from it.
    """
    result = Classified()
    unique: dict[tuple[str, str, str], Problem] = {}
    for problem in problems:
        key = (problem.source, problem.split, problem.source_index)
        first = unique.setdefault(key, problem)
        if first is not problem:
            (result.existing if first.row_hash == problem.row_hash else result.collisions).append(problem)
    if not unique:
        return result
    con.register("srpo_keys", _key_table(list(unique.values())))
    try:
        stored = con.execute(
            "SELECT k.source, k.split, k.source_index, p.row_hash = k.row_hash FROM srpo_keys k "
            "JOIN problems p USING (source, split, source_index)"
        ).fetchall()
    finally:
        con.unregister("srpo_keys")
    same = {(s, sp, i): equal for s, sp, i, equal in stored}
    for key, problem in unique.items():
        if key not in same:
            result.new.append(problem)
        else:
            (result.existing if same[key] else result.collisions).append(problem)
    return result


def insert_new(con: duckdb.DuckDBPyConnection, problems: Sequence[Problem]) -> int:
    """Insert rows `classify` found new; returns how many landed."""
    if not problems:
        return 0
    now = utcnow()
    con.register("srpo_batch", _arrow([p.to_row(now) for p in problems], _problem_schema()))
    try:
        before = con.execute("SELECT count(*) FROM problems").fetchall()[0][0]
        con.execute("INSERT INTO problems BY NAME SELECT * FROM srpo_batch ON CONFLICT DO NOTHING")
        return con.execute("SELECT count(*) FROM problems").fetchall()[0][0] - before
    finally:
        con.unregister("srpo_batch")


def status_counts(con: duckdb.DuckDBPyConnection, problems: Sequence[Problem]) -> dict[str, int]:
    """Stored clean_status counts of these rows (for rows a re-ingest found already present)."""
    if not problems:
        return {}
    con.register("srpo_keys", _key_table(problems))
    try:
        found = con.execute(
            "SELECT p.clean_status, count(*) FROM srpo_keys k "
            "JOIN problems p USING (source, split, source_index) GROUP BY 1"
        ).fetchall()
    finally:
        con.unregister("srpo_keys")
    return dict(found)
