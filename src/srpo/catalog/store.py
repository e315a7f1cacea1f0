"""Batched writes and typed reads of the catalog tables, on a connection the caller holds.

Every write function expects to run inside `Catalog.writer()` (one transaction), so a batch of
problems, its invalid rows and the ingest's progress land together or not at all: a run killed
between two batches leaves a catalog that opens and a re-run that completes it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srpo import __version__
from srpo.catalog.records import (
    INVALID_ROW_COLUMNS,
    PROBLEM_COLUMNS,
    InvalidRow,
    Problem,
    utcnow,
)

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


def _invalid_schema() -> pa.Schema:
    import pyarrow as pa

    types = {"ingest_id": pa.int64(), "line": pa.int64(), "created_at": pa.timestamp("us")}
    return pa.schema([(name, types.get(name, pa.string())) for name in INVALID_ROW_COLUMNS])


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
            "SELECT p.clean_status, count(*) FROM srpo_keys k JOIN problems p USING (source, split, source_index) "
            "GROUP BY 1"
        ).fetchall()
    finally:
        con.unregister("srpo_keys")
    return dict(found)


def insert_invalid_rows(con: duckdb.DuckDBPyConnection, rows: Sequence[InvalidRow]) -> None:
    if not rows:
        return
    now = utcnow()
    batch = _arrow([r.to_row(now) for r in rows], _invalid_schema())
    con.register("srpo_invalid", batch)
    try:
        con.execute("INSERT INTO invalid_rows BY NAME SELECT * FROM srpo_invalid ON CONFLICT DO NOTHING")
    finally:
        con.unregister("srpo_invalid")


def clear_stale_invalid_rows(
    con: duckdb.DuckDBPyConnection, files: Iterable[str], *, keep_ingest_id: int
) -> None:
    """Forget earlier ingests' invalid rows for these files: this pass records them afresh."""
    files = list(files)
    if files:
        con.execute(
            "DELETE FROM invalid_rows WHERE file IN (SELECT unnest(?)) AND ingest_id IS DISTINCT FROM ?",
            [files, keep_ingest_id],
        )


# ---------------------------------------------------------------------------------- ingests


@dataclass(frozen=True, slots=True)
class IngestKey:
    """What makes two ingest runs the same run (so a killed one is resumed, not repeated)."""

    source: str
    split: str | None
    adapter: str
    location: str
    fingerprint: str


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def begin_ingest(
    con: duckdb.DuckDBPyConnection, key: IngestKey, *, options: dict[str, Any]
) -> tuple[int, bool]:
    """Start an ingest row, or take over an unfinished one of the same input (its process died,
    was interrupted or failed), so the counts of the finished run cover the whole input.

    Returns (ingest_id, resumed).
    """
    host = socket.gethostname()
    unfinished = con.execute(
        "SELECT ingest_id, status, pid, host FROM ingests "
        "WHERE status IN ('running', 'interrupted', 'failed') AND source = ? "
        "AND split IS NOT DISTINCT FROM ? AND adapter = ? AND location = ? AND fingerprint = ? "
        "ORDER BY ingest_id DESC",
        [key.source, key.split, key.adapter, key.location, key.fingerprint],
    ).fetchall()
    for ingest_id, status, pid, held_by in unfinished:
        alive_elsewhere = status == "running" and (held_by != host or _pid_alive(pid))
        if alive_elsewhere:
            continue  # another process is ingesting the same input right now
        con.execute(
            "UPDATE ingests SET status = 'running', pid = ?, host = ?, resumed = resumed + 1, "
            "options = ?, error = NULL, finished_at = NULL WHERE ingest_id = ?",
            [os.getpid(), host, json.dumps(options), ingest_id],
        )
        return ingest_id, True
    ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchall()[0][0]
    con.execute(
        "INSERT INTO ingests (ingest_id, source, split, adapter, location, fingerprint, options, "
        "status, pid, host, srpo_version, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
        [
            ingest_id, key.source, key.split, key.adapter, key.location, key.fingerprint,
            json.dumps(options), os.getpid(), host, __version__, utcnow(),
        ],
    )  # fmt: skip
    return ingest_id, False


@dataclass(slots=True)
class IngestCounts:
    rows_read: int = 0
    rows_added: int = 0
    rows_existing: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    rows_invalid: int = 0


def record_progress(con: duckdb.DuckDBPyConnection, ingest_id: int, *, rows_read: int) -> None:
    con.execute("UPDATE ingests SET rows_read = ? WHERE ingest_id = ?", [rows_read, ingest_id])


def rows_added_by(con: duckdb.DuckDBPyConnection, ingest_id: int) -> int:
    return con.execute("SELECT count(*) FROM problems WHERE ingest_id = ?", [ingest_id]).fetchall()[0][0]


def finish_ingest(
    con: duckdb.DuckDBPyConnection,
    ingest_id: int,
    *,
    status: str,
    counts: IngestCounts,
    stage_counts: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    con.execute(
        "UPDATE ingests SET status = ?, rows_read = ?, rows_added = ?, rows_existing = ?, "
        "rows_kept = ?, rows_rejected = ?, rows_invalid = ?, stage_counts = ?, error = ?, "
        "finished_at = ? WHERE ingest_id = ?",
        [
            status, counts.rows_read, counts.rows_added, counts.rows_existing, counts.rows_kept,
            counts.rows_rejected, counts.rows_invalid,
            json.dumps(stage_counts) if stage_counts is not None else None, error, utcnow(), ingest_id,
        ],
    )  # fmt: skip
