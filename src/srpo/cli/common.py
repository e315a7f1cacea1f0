"""What every srpo command shares: error handling, output writing, progress on stderr.

Errors are one line on stderr and a non-zero exit; `--debug` (or SRPO_DEBUG=1) shows the
traceback. Tables go to stdout; notes and progress bars to stderr, so output can be piped.
Heavy modules (pyarrow, duckdb) are imported inside the functions that use them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from srpo.errors import InputError, SrpoError

if TYPE_CHECKING:
    import pyarrow as pa

OUTPUT_FORMATS = ("table", "jsonl", "csv", "parquet")

CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        envvar="SRPO_CATALOG",
        help="Catalog file (DuckDB). Default: $SRPO_CATALOG, else ./srpo.duckdb.",
        show_default=False,
    ),
]
TABLE_TEXT_WIDTH = 60

_state = {"debug": os.environ.get("SRPO_DEBUG", "") not in ("", "0")}


def set_debug(enabled: bool) -> None:
    _state["debug"] = _state["debug"] or enabled


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout() -> Console:
    # Piped output keeps long lines rather than wrapping them at 80 columns.
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=200)


def run_app(app: typer.Typer, prog_name: str) -> None:
    """Run a typer app, turning srpo errors into one line and an exit code."""
    try:
        app(prog_name=prog_name, standalone_mode=True)
    except SrpoError as error:
        if _state["debug"]:
            raise
        print(f"{prog_name}: error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print(f"{prog_name}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # A reader such as `head` closed the pipe: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as error:
        if _state["debug"]:
            raise
        print(
            f"{prog_name}: internal error: {type(error).__name__}: {error} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)


def split_list(value: str | None) -> tuple[str, ...]:
    """`a,b , c` -> ('a', 'b', 'c')."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def check_choice(option: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise InputError(f"{option} must be one of {', '.join(choices)}, got {value!r}")
    return value


# ------------------------------------------------------------------------------------ output

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


# ---------------------------------------------------------------------------------- progress


class RichReporter:
    """Progress bar over bytes read, on stderr, only when stderr is a terminal."""

    def __init__(self, *, quiet: bool = False, label: str = "ingesting") -> None:
        self.console = stderr()
        self.quiet = quiet
        self.label = label
        self._progress = None
        self._task = None

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message)

    def start(self, total_bytes: int) -> None:
        if self.quiet or not self.console.is_terminal:
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            f"[bold]{self.label}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=self.console, transient=True,
        )  # fmt: skip
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=total_bytes)

    def advance(self, done_bytes: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, done_bytes)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class CountProgress:
    """A progress bar over items, with an optional rate ("12.3 samples/s"), on stderr and only
    when stderr is a terminal. `start(total)` once the total is known, `advance(n)` as items finish."""

    def __init__(self, label: str, *, quiet: bool, rate_unit: str | None = None) -> None:
        self.label = label
        self.rate_unit = rate_unit
        self.enabled = not quiet and stderr().is_terminal
        self._progress = None
        self._task = None

    def __enter__(self) -> CountProgress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                f"[bold]{self.label}", BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(), console=stderr(), transient=True,
            )  # fmt: skip
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=None, rate="")
        return self

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def advance(self, count: int) -> None:
        if self._progress is None:
            return
        self._progress.advance(self._task, count)
        if self.rate_unit:
            speed = self._progress.tasks[0].speed
            self._progress.update(self._task, rate=f"{speed:.1f} {self.rate_unit}/s" if speed else "")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
