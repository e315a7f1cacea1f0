"""`srpo-curate report`: parse options, call `srpo.report.build.build_report`, write, print.

Registered on the `srpo-curate` app in `cli/curate.py`. DuckDB, Altair and vl-convert are
imported inside the command, so `srpo-curate --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srpo.cli.app import check_choice, split_list
from srpo.cli.options import CatalogOpt, ConfigOpt, SetOpt
from srpo.cli.output import stderr, stdout
from srpo.errors import InputError

REPORT_FORMATS = ("html", "png")
DEFAULT_OUTPUT = {"html": Path("report.html"), "png": Path("report-figures")}


def parse_metrics_options(values: list[str]) -> dict[str, Path]:
    """`RUN=PATH` pairs -> {run id: path}."""
    found: dict[str, Path] = {}
    for value in values:
        run_id, sep, path = value.partition("=")
        if not sep or not run_id.strip() or not path.strip():
            raise InputError(f"--metrics {value!r}: expected RUN_ID=PATH (the metrics.jsonl or its folder)")
        found[run_id.strip()] = Path(path.strip()).expanduser()
    return found


def report(
    run: Annotated[
        list[str] | None,
        typer.Option(
            "--run",
            metavar="RUN_ID",
            help="A training run to draw (repeat, or comma-separate, to overlay runs).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The HTML file (default report.html), or with --format png the "
            "folder for the images (default report-figures/).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option("--format", "-f", help="html (one self-contained file) or png (one image per figure)."),
    ] = "html",
    metrics: Annotated[
        list[str] | None,
        typer.Option(
            "--metrics",
            metavar="RUN_ID=PATH",
            help="Where a run's metrics.jsonl is, when its output folder moved (repeatable).",
        ),
    ] = None,
    title: Annotated[str, typer.Option(help="The report's title.")] = "srpo report",
    scale: Annotated[float, typer.Option(help="--format png: image pixels per chart pixel.")] = 2.0,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    catalog: CatalogOpt = None,
) -> None:
    """Draw the catalog and training runs: one self-contained HTML file, or PNG images.

    The catalog: rows kept and rejected per source and reason, verification, duplicates and
    contamination, difficulty and pass rate per source and domain. Each --run (several are
    overlaid): reward, accuracy and response length per domain across the stage switch, length of
    correct vs wrong responses, groups with identical rewards, history resampling per epoch;
    from its metrics.jsonl the loss, clip fractions, KL, entropy, the rollout/trainer mismatch
    and where the time went; and the reasoning behaviour of its stored responses (recheck,
    hesitation, exploration, math answers checked with code). Pattern lists and the window are
    settings: --set behaviour.hesitation='["\\bwait\\b"]', --set behaviour.window_steps=50.
    Needs the report extra (pip install 'srpo\\[report]').
    """
    from srpo.catalog import Catalog
    from srpo.config import load_config
    from srpo.report.build import ReportOptions, build_report
    from srpo.report.config import ReportConfig

    check_choice("--format", output_format, REPORT_FORMATS)
    if not 0.25 <= scale <= 8:
        raise InputError(f"--scale must be between 0.25 and 8, got {scale:g}")
    options = ReportOptions(
        run_ids=tuple(name for value in run or () for name in split_list(value)),
        metrics=parse_metrics_options(metrics or []),
        config=load_config(ReportConfig, config, overrides or ()),
        title=title,
    )
    built = build_report(Catalog.open(catalog), options)
    target = output or DEFAULT_OUTPUT[output_format]
    if output_format == "html":
        from srpo.report.html import write_html

        write_html(built, target)
        size = f", {target.stat().st_size / 1e6:.1f} MB"
    else:
        from srpo.report.png import write_pngs

        size = f", {len(write_pngs(built, target, scale=scale))} images"
    counts = {}
    for figure in built.figures:
        counts[figure.section] = counts.get(figure.section, 0) + 1
    parts = ", ".join(f"{section} {n}" for section, n in counts.items())
    for note in built.notes:
        stderr().print(f"note: {note}", markup=False)
    stdout().print(f"wrote {target}: {len(built.figures)} figures ({parts}){size}", markup=False)
