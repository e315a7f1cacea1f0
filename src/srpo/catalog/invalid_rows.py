"""The `invalid_rows` table: input rows that could not become problems, with file, line and reason.

Covers: recording them and forgetting an earlier ingest's record of the same files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from srpo.catalog.records import INVALID_ROW_COLUMNS, InvalidRow, utcnow

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


def _invalid_schema() -> pa.Schema:
    import pyarrow as pa

    types = {"ingest_id": pa.int64(), "line": pa.int64(), "created_at": pa.timestamp("us")}
    return pa.schema([(name, types.get(name, pa.string())) for name in INVALID_ROW_COLUMNS])


def insert_invalid_rows(con: duckdb.DuckDBPyConnection, rows: Sequence[InvalidRow]) -> None:
    if not rows:
        return
    now = utcnow()
    import pyarrow as pa

    batch = pa.Table.from_pylist([r.to_row(now) for r in rows], schema=_invalid_schema())
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
