"""The options several commands share, declared once so they read the same everywhere.

Every command that reads a config takes `--config FILE` and `--set key=value`; every command
that reads the catalog takes `--catalog`; commands that grade take `--workers` and `--timeout`
(the `grader` section's `workers` and `timeout_s`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        envvar="SRPO_CATALOG",
        help="Catalog file (DuckDB). Default: $SRPO_CATALOG, else ./srpo.duckdb.",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Config file (TOML or YAML); see --set for the keys.", show_default=False),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override one setting, e.g. --set grader.sandbox.memory_mb=256 (repeatable).",
        show_default=False,
    ),
]
SummaryFormatOpt = Annotated[str, typer.Option("--format", "-f", help="Summary as table or json.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.", show_default=False)
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar on stderr.")]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers", "-w", help="Grader worker processes and sandboxes (grader.workers).", show_default=False
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Seconds for one math comparison and for each code test case (grader.timeout_s).",
        show_default=False,
    ),
]
SourceOpt = Annotated[str | None, typer.Option(help="Source names, comma-separated.")]
DomainOpt = Annotated[str | None, typer.Option(help="math and/or code, comma-separated.")]
WhereOpt = Annotated[
    str | None, typer.Option(help="Extra SQL condition on problems, e.g. \"split = 'train'\".")
]
LimitOpt = Annotated[int | None, typer.Option(help="At most this many problems.")]
