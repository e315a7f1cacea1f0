"""The `ingests` table: one row per ingest run, so a killed ingest is taken over, not repeated.

Covers: starting or taking over an ingest, its progress, its final counts. Does not cover: the
problems it writes (`problems`, `invalid_rows`).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo import __version__
from srpo.catalog.records import utcnow

if TYPE_CHECKING:
    import duckdb


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
