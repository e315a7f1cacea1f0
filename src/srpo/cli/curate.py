"""`srpo-curate`: fill the catalog from public datasets and read it back.

Each command parses its options, calls one library function and prints; no logic lives here.
Imports of DuckDB, pyarrow and the curate modules happen inside the commands so that
`srpo-curate --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from srpo.cli.app import check_choice, run_app, set_debug, split_list
from srpo.cli.difficulty import difficulty
from srpo.cli.doctor import doctor
from srpo.cli.options import CatalogOpt, ConfigOpt, OutputOpt, SetOpt, SummaryFormatOpt
from srpo.cli.output import OUTPUT_FORMATS
from srpo.cli.progress import RichReporter
from srpo.cli.report import report
from srpo.cli.verify import grade, verify

app = typer.Typer(
    name="srpo-curate",
    help="Build a clean, verified, difficulty-graded catalog of math and code problems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    set_debug(debug)


# ------------------------------------------------------------------------------------ ingest


@app.command()
def ingest(
    source: Annotated[
        str,
        typer.Argument(
            help="A local file or folder (JSONL, JSON, Parquet, CSV; .gz too), '-' for JSONL on "
            "stdin, or a Hugging Face dataset id such as openai/gsm8k."
        ),
    ],
    adapter: Annotated[
        str | None,
        typer.Option(
            help="Adapter (gsm8k, math, math500, aime, deepscaler, humaneval, mbpp, "
            "codecontests, leetcode, generic). Auto-detected when omitted."
        ),
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="Split for every row (default: from the row or file name).")
    ] = None,
    source_name: Annotated[
        str | None, typer.Option("--source", help="Source name (default: from the file or folder name).")
    ] = None,
    subset: Annotated[str | None, typer.Option(help="Hub datasets: the configuration to read.")] = None,
    license_name: Annotated[
        str | None, typer.Option("--license", help="License recorded on every row.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per committed transaction.")] = 5000,
    limit: Annotated[int | None, typer.Option(help="Stop after this many rows.")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 if any row was invalid.")] = False,
    difficulty_from_source: Annotated[
        str | None,
        typer.Option(
            help="Set difficulty from the dataset's own field (metadata.source_difficulty) on "
            "unrated problems: scale:LOW,HIGH (higher is harder: below LOW easy, from HIGH hard) "
            "or pass-rate[:HARD,EASY] (below HARD hard, from EASY easy; default 0.2,0.8)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes or progress on stderr.")] = False,
    benchmark: Annotated[
        str | None,
        typer.Option(
            help="Register SOURCE as benchmark NAME (e.g. math500): kept for evaluation, and "
            "training problems that leak it are rejected, now and in later ingests. Also turns "
            "a source already ingested as training data into a benchmark."
        ),
    ] = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    output_format: SummaryFormatOpt = "table",
    catalog: CatalogOpt = None,
) -> None:
    """Read SOURCE, map it onto the problem schema, clean it, and store it in the catalog.

    Cleaning rejects (with a dotted reason, never deletes) multi-part questions, proofs, problems
    needing a figure or table, unverifiable golds, code needing files, network or packages, and
    exact and near duplicates of problems already in the catalog. Re-ingesting the same input adds
    nothing; a killed ingest resumes where it stopped. Rows that cannot be read are recorded in
    `invalid_rows` with file, line and reason.
    """
    from srpo.catalog import Catalog
    from srpo.cli.summaries import print_ingest_report
    from srpo.config import load_config
    from srpo.curate.config import CleaningConfig
    from srpo.curate.ingest import IngestOptions
    from srpo.curate.ingest import ingest as run_ingest

    check_choice("--format", output_format, ("table", "json"))
    options = IngestOptions(
        location=source, adapter=adapter, split=split, source=source_name, subset=subset,
        license=license_name, batch_size=batch_size, limit=limit, benchmark=benchmark,
        config=load_config(CleaningConfig, config, overrides or ()),
        difficulty_from_source=difficulty_from_source,
    )  # fmt: skip
    report = run_ingest(Catalog.open(catalog, create=True), options, reporter=RichReporter(quiet=quiet))
    print_ingest_report(report, as_json=output_format == "json")
    if strict and report.counts.rows_invalid:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------- benchmark


@app.command()
def benchmark(
    source: Annotated[
        str, typer.Argument(help="A source already in the catalog (its name, as stats lists it).")
    ],
    name: Annotated[
        str,
        typer.Option("--name", help="Benchmark name: lowercase letters, digits, '-' or '_' (e.g. math500)."),
    ],
    split: Annotated[
        str | None,
        typer.Option(help="Only these splits of SOURCE, comma-separated (e.g. test). Default: all."),
    ] = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    output_format: SummaryFormatOpt = "table",
    catalog: CatalogOpt = None,
) -> None:
    """Turn a source already in the catalog into benchmark NAME, as `ingest --benchmark` would.

    Its problems are kept for evaluation only (what training cleaning decided about them no longer
    applies), and every training problem that leaks one of them is rejected (`decontam.NAME`),
    including copies that were duplicates of them.
    """
    from dataclasses import asdict

    from srpo.catalog import Catalog
    from srpo.cli.summaries import print_benchmark_report
    from srpo.config import load_config
    from srpo.curate.benchmarks import make_benchmark
    from srpo.curate.config import CleaningConfig

    check_choice("--format", output_format, ("table", "json"))
    cleaning = load_config(CleaningConfig, config, overrides or ())
    report = make_benchmark(
        Catalog.open(catalog), name=name, source=source, splits=split_list(split) or None, config=cleaning
    )
    print_benchmark_report(asdict(report), as_json=output_format == "json")


# ------------------------------------------------------------------------------------- clean


@app.command()
def clean(
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    output_format: SummaryFormatOpt = "table",
    catalog: CatalogOpt = None,
) -> None:
    """Re-run cleaning, deduplication and decontamination over every problem in the catalog.

    Use after changing a rule or a setting (`--set dedup.threshold=0.85`): problems start again
    from their raw question and the duplicate index is rebuilt in arrival order.
    """
    from srpo.catalog import Catalog
    from srpo.cli.summaries import print_clean_report
    from srpo.config import load_config
    from srpo.curate.config import CleaningConfig
    from srpo.curate.reclean import clean as run_clean

    check_choice("--format", output_format, ("table", "json"))
    cleaning = load_config(CleaningConfig, config, overrides or ())
    report = run_clean(Catalog.open(catalog), cleaning)
    print_clean_report(report, as_json=output_format == "json")


# ------------------------------------------------------------------------------------- query


@app.command()
def query(
    domain: Annotated[str | None, typer.Option(help="math and/or code, comma-separated.")] = None,
    source: Annotated[str | None, typer.Option(help="Source names, comma-separated.")] = None,
    split: Annotated[str | None, typer.Option(help="Splits, comma-separated.")] = None,
    status: Annotated[str | None, typer.Option(help="kept or rejected.")] = None,
    reason: Annotated[
        str | None, typer.Option(help="Reject reasons or prefixes (math, code.network), comma-separated.")
    ] = None,
    verify_status: Annotated[
        str | None, typer.Option(help="pending, verified, wrong, ambiguous, unverifiable, flaky.")
    ] = None,
    difficulty: Annotated[
        str | None, typer.Option(help="easy, medium, hard and/or unrated, comma-separated.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many rows (table output: 20 unless set).")
    ] = None,
    columns: Annotated[str | None, typer.Option(help="Columns to show, comma-separated.")] = None,
    sql: Annotated[
        str | None,
        typer.Option(
            help="Any read-only SQL over the catalog (tables problems, ingests, invalid_rows, "
            "runs, rollouts); the filters above are then ignored."
        ),
    ] = None,
    export: Annotated[
        str | None,
        typer.Option(help="Write the shapes trl, verl or openrlhf read (kept problems unless --status)."),
    ] = None,
    next_epoch: Annotated[
        str | None,
        typer.Option(
            "--next-epoch",
            metavar="RUN_ID",
            help="Show the problems srpo-train's next epoch of this run trains on (history resampling).",
        ),
    ] = None,
    behaviour: Annotated[
        str | None,
        typer.Option(
            "--behaviour",
            metavar="RUN_ID",
            help="Reasoning behaviour of a run's stored responses per epoch (or behaviour.window_steps): "
            "share showing recheck, hesitation, exploration, code_check, mean tokens with and without. "
            "Patterns: --config / --set behaviour.<name>=[...].",
        ),
    ] = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="table, jsonl, csv or parquet. Default: what -o's extension names (.jsonl, .csv, "
            ".parquet), else jsonl with -o (exports: the format their trainer reads), else table. "
            "A --format that contradicts -o's extension is an error.",
        ),
    ] = "",
    output: OutputOpt = None,
    catalog: CatalogOpt = None,
) -> None:
    """Select problems by their status, or run SQL, and print or export them."""
    from srpo.catalog import Catalog
    from srpo.catalog.queries import ProblemFilter
    from srpo.cli.summaries import export_format, export_problems, output_format_for, show_problems, show_sql

    if export is not None:
        fmt = export_format(export, output_format or None, output)
    else:
        default = "jsonl" if output is not None else "table"
        fmt = output_format_for(output_format or None, output, default=default, allowed=OUTPUT_FORMATS)
    problem_filter = ProblemFilter(
        domains=split_list(domain), sources=split_list(source), splits=split_list(split),
        status=status, reasons=split_list(reason), verify_statuses=split_list(verify_status),
        difficulties=split_list(difficulty), limit=limit,
    )  # fmt: skip
    opened = Catalog.open(catalog)
    with opened.reader() as con:
        if next_epoch is not None:
            from srpo.cli.summaries import show_next_epoch

            show_next_epoch(con, next_epoch, fmt=fmt, output=output, limit=limit)
        elif behaviour is not None:
            from srpo.cli.summaries import show_behaviour
            from srpo.config import load_config
            from srpo.report.config import ReportConfig

            settings = load_config(ReportConfig, config, overrides or ()).behaviour
            show_behaviour(con, behaviour, settings, fmt=fmt, output=output, limit=limit)
        elif sql is not None:
            show_sql(con, sql, fmt=fmt, output=output, limit=limit)
        elif export is not None:
            export_problems(con, problem_filter, target=export, fmt=fmt, output=output)
        else:
            show_problems(con, problem_filter, fmt=fmt, output=output, columns=split_list(columns))


# ------------------------------------------------------------------------------------- stats


@app.command()
def stats(
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or jsonl.")] = "table",
    catalog: CatalogOpt = None,
) -> None:
    """Counts by source, split, domain, status, reject reason, verification and difficulty."""
    from srpo.catalog import Catalog
    from srpo.cli.summaries import show_stats

    check_choice("--format", output_format, ("table", "jsonl"))
    with Catalog.open(catalog).reader() as con:
        show_stats(con, as_jsonl=output_format == "jsonl")


app.command()(verify)
app.command()(grade)
app.command()(doctor)
app.command()(difficulty)
app.command()(report)


def main() -> None:
    run_app(app, "srpo-curate")


if __name__ == "__main__":
    main()
