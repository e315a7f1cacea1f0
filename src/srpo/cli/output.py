"""Printing and writing what commands produce: tables on stdout, notes on stderr, and rows as
JSONL, CSV or Parquet to a file or stdout. Heavy modules (pyarrow) are imported inside the
functions that use them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from srpo.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

OUTPUT_FORMATS = ("table", "jsonl", "csv", "parquet")
TABLE_TEXT_WIDTH = 60


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout() -> Console:
    # Piped output keeps long lines rather than wrapping them at 80 columns.
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=200)


JSON_TYPES = {"JSON"}
WIDE_COLUMNS = {"question", "answer", "solution", "error", "raw", "tests", "metadata"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= TABLE_TEXT_WIDTH else text[: TABLE_TEXT_WIDTH - 1] + "…"


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, title: str | None = None) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False, title_justify="left")
    for column in columns:
        wide = column in WIDE_COLUMNS
        table.add_column(
            column, no_wrap=True, overflow="ellipsis", ratio=1 if wide else None,
            min_width=16 if column == "problem_id" else None,
        )  # fmt: skip
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    stdout().print(table)


def _json_ready(rows: Iterable[dict[str, Any]], json_columns: set[str]) -> Iterable[dict[str, Any]]:
    for row in rows:
        yield {k: (json.loads(v) if k in json_columns and isinstance(v, str) else v) for k, v in row.items()}


def _open_text(output: Path | None):
    return output.open("w", encoding="utf-8") if output else _StdoutText()


class _StdoutText:
    def __enter__(self):
        return sys.stdout

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()


def write_jsonl(
    rows: Iterable[dict[str, Any]], output: Path | None, json_columns: set[str] = frozenset()
) -> int:
    count = 0
    with _open_text(output) as handle:
        for row in _json_ready(rows, set(json_columns)):
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def _flatten_nested(table: pa.Table) -> pa.Table:
    """CSV cannot hold lists or structs: write them as JSON text."""
    import pyarrow as pa

    for index, column in enumerate(table.schema):
        if pa.types.is_nested(column.type):
            values = [json.dumps(v, default=str, ensure_ascii=False) if v is not None else None
                      for v in table.column(index).to_pylist()]  # fmt: skip
            table = table.set_column(index, column.name, pa.array(values, pa.string()))
    return table


def write_arrow(
    table: pa.Table, *, fmt: str, output: Path | None, json_columns: set[str] = frozenset()
) -> None:
    """Write a table as jsonl, csv or parquet to a file or stdout."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt == "jsonl":
        write_jsonl(table.to_pylist(), output, json_columns)
    elif fmt == "csv":
        target = str(output) if output else sys.stdout.buffer
        pacsv.write_csv(_flatten_nested(table), target)
    elif fmt == "parquet":
        if output is None and sys.stdout.isatty():
            raise InputError("parquet is binary: pass -o FILE (or pipe stdout to a file)")
        pq.write_table(table, str(output) if output else sys.stdout.buffer)
    else:
        raise InputError(f"--format must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")


def rows_from_dicts(rows: list[dict[str, Any]]) -> pa.Table:
    import pyarrow as pa

    return pa.Table.from_pylist(rows)
