"""Building a report: read the catalog (and the runs' metrics.jsonl), make every figure.

`build_report(catalog, ReportOptions(run_ids=..., metrics=..., config=...))` returns a `Report`
(plain data: figures as Vega-Lite dicts with their rows); `write_html` and `write_pngs` write it.
The catalog is read through one read-only connection, so a report can be made while a training
run writes (between its batches).

Covers: putting the parts together. Does not cover: the queries (`catalog_data`, `run_data`,
`behaviour`), the charts (`*_charts`) or the output formats (`html`, `png`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from srpo.errors import InputError
from srpo.report.behaviour import BehaviourRow, behaviour_rows
from srpo.report.behaviour_charts import behaviour_figures
from srpo.report.catalog_charts import catalog_figures
from srpo.report.catalog_data import read_catalog
from srpo.report.config import ReportConfig
from srpo.report.document import Report, RunSummary
from srpo.report.run_charts import run_figures
from srpo.report.run_data import RunData, read_run
from srpo.report.update_charts import update_figures

if TYPE_CHECKING:
    import duckdb

    from srpo.catalog import Catalog


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    run_ids: tuple[str, ...] = ()
    """Training runs to draw (overlaid); none: the catalog figures only."""
    metrics: dict[str, Path] = field(default_factory=dict)
    """Run id -> its metrics.jsonl (or the folder holding it), for runs whose folder moved."""
    config: ReportConfig = field(default_factory=ReportConfig)
    title: str = "srpo report"


def _summary(con: duckdb.DuckDBPyConnection, run: RunData) -> RunSummary:
    info = run.info
    [(stored,)] = con.execute(
        "SELECT count(*) FROM rollouts WHERE run_id = ? AND response IS NOT NULL", [info.run_id]
    ).fetchall()
    switch = (
        f"after step {info.stage_switch_step} ({info.stage_switch_reason})"
        if info.stage_switch_step
        else "none"
    )
    metrics = str(run.metrics.path) if run.metrics.lines else "not read (see the notes)"
    return RunSummary(
        run_id=info.run_id,
        model=info.model,
        status=info.status,
        steps=info.step,
        epochs=len({row["epoch"] for row in run.epochs if row["category"] != "dropped"}),
        stage_switch=switch,
        responses_stored=int(stored),
        metrics=metrics,
    )


def _check_metrics_options(options: ReportOptions) -> None:
    for run_id, path in options.metrics.items():
        if run_id not in options.run_ids:
            raise InputError(f"--metrics {run_id}={path}: {run_id} is not one of the --run ids")
        if not path.exists():
            raise InputError(f"--metrics {run_id}={path}: no such file or folder")


def build_report(catalog: Catalog, options: ReportOptions, *, generated_at: str = "") -> Report:
    """Every figure the catalog and the chosen runs can give."""
    from srpo.catalog.records import utcnow

    run_ids = tuple(dict.fromkeys(options.run_ids))
    options.config.behaviour.validate()
    _check_metrics_options(options)
    with catalog.reader() as con:
        data = read_catalog(con)
        runs = [read_run(con, run_id, metrics_override=options.metrics.get(run_id)) for run_id in run_ids]
        behaviour: list[BehaviourRow] = []
        for run_id in run_ids:
            behaviour += behaviour_rows(con, run_id, options.config.behaviour)
        summaries = [_summary(con, run) for run in runs]
    figures, absent_catalog = catalog_figures(data)
    absent = {"catalog": absent_catalog}
    notes = [note for run in runs for note in run.notes]
    for summary in summaries:
        if not summary.responses_stored:
            notes.append(
                f"run {summary.run_id} stored no responses (logging.store_responses=false): "
                "its reasoning behaviour cannot be counted"
            )
    if run_ids:
        window = options.config.behaviour.window_steps
        for section, made, sentence in (
            ("runs", run_figures(runs), "No rollouts recorded for these runs yet."),
            (
                "training",
                update_figures(runs),
                "No metrics.jsonl could be read for these runs (see the notes).",
            ),
            (
                "behaviour",
                behaviour_figures(behaviour, list(run_ids), window),
                "No stored responses to analyse.",
            ),
        ):
            figures += made
            if not made:
                absent[section] = [sentence]
    return Report(
        title=options.title,
        catalog_path=str(catalog.path),
        generated_at=generated_at or f"{utcnow():%Y-%m-%d %H:%M} UTC",
        totals=data.totals,
        runs=summaries,
        figures=figures,
        absent=absent,
        notes=notes,
    )
