"""Printing what commands return: the ingest summary, problem listings, stats, exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from srpo.cli.app import check_choice
from srpo.cli.output import JSON_TYPES, print_table, stderr, stdout, write_arrow, write_jsonl
from srpo.errors import InputError

if TYPE_CHECKING:
    import duckdb

    from srpo.catalog.queries import ProblemFilter, Result
    from srpo.curate.ingest import IngestReport
    from srpo.report.config import BehaviourConfig

DEFAULT_TABLE_LIMIT = 20
# What a file name says it holds: `-o train.parquet` is Parquet, whatever else the command chose.
EXTENSION_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
                     ".parquet": "parquet", ".pq": "parquet"}  # fmt: skip


def output_format_for(
    given: str | None,
    output: Path | None,
    *,
    default: str,
    allowed: tuple[str, ...],
    chooser: str = "--format",
) -> str:
    """The format to write: `--format` if given, else the one `-o`'s extension names, else
    `default`. A `--format` (or an export, `chooser`) that contradicts the extension is an error
    naming both, so no file is ever written in a format other than its name says."""
    implied = EXTENSION_FORMATS.get(output.suffix.lower()) if output is not None else None
    if given == "table" and output is not None:
        raise InputError(f"--format table prints to the terminal; -o {output} needs jsonl, csv or parquet")
    if given and implied and given != implied:
        raise InputError(
            f"-o {output}: the name says {implied} but --format is {given}; "
            f"pass --format {implied} or name the file *.{given}"
        )
    chosen = given or implied or default
    if chosen not in allowed:
        if given:
            scope = "" if chooser == "--format" else f" with {chooser}"
            raise InputError(f"--format must be one of {', '.join(allowed)}{scope}, got {given!r}")
        raise InputError(f"{chooser} writes {' or '.join(allowed)}, but -o {output} names a {chosen} file")
    return chosen


def print_ingest_report(report: IngestReport, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), default=str))
        return
    counts = report.counts
    rows = [
        {"": "rows read", "count": counts.rows_read},
        {"": "added to the catalog", "count": counts.rows_added},
        {"": "already in the catalog", "count": counts.rows_existing},
        {"": "kept", "count": counts.rows_kept},
        {"": "rejected", "count": counts.rows_rejected},
        {"": "invalid (see invalid_rows)", "count": counts.rows_invalid},
    ]
    if report.rated_from_source:
        rows.append({"": "difficulty set from the source", "count": report.rated_from_source})
    splits = ", ".join(f"{name} {n}" for name, n in sorted(report.splits.items())) or "none"
    out = stdout()
    out.print(
        f"ingest {report.ingest_id}: source {report.source}, adapter {report.adapter}, "
        f"{report.files} file{'s' if report.files != 1 else ''}, {report.elapsed_s:.1f}s; splits: {splits}",
        markup=False,
    )
    print_table(rows, ["", "count"])
    _print_stage_reasons(report.stage_counts)
    if report.benchmark:
        print_benchmark_report(report.benchmark)
    if report.looks_like:
        known = report.looks_like
        out.print(
            f"note: {report.source} looks like {known['looks_like']}, a well-known evaluation set, and was "
            "stored as training problems. To keep it for evaluation only (and reject its copies in "
            f"training data), run:\n  {known['command']}",
            markup=False,
        )
    if report.invalid_examples:
        console = stderr()
        console.print(f"first invalid rows ({counts.rows_invalid} in all):")
        for example in report.invalid_examples:
            console.print(f"  {example}", markup=False)


def print_benchmark_report(bench: dict, *, as_json: bool = False) -> None:
    """One line: the benchmark registered, the training problems re-checked and rejected."""
    if as_json:
        print(json.dumps(bench, default=str))
        return
    contaminated = ", ".join(f"{k} {v}" for k, v in bench["contaminated"].items()) or "none"
    stdout().print(
        f"benchmark {bench['name']}: {bench['problems']} problems registered; "
        f"{bench['rechecked']} training problems re-checked, newly rejected: {contaminated}",
        markup=False,
    )


def _print_stage_reasons(stage_counts: dict) -> None:
    reasons = [
        {"stage": stage, "reason": reason, "rows": n}
        for stage, counts in stage_counts.items()
        for reason, n in sorted(counts.get("rejected", {}).items(), key=lambda kv: -kv[1])
    ]
    if reasons:
        print_table(reasons, ["stage", "reason", "rows"], title="rejected by")


def print_clean_report(report, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), default=str))
        return
    stdout().print(
        f"cleaned {report.problems} problems ({report.benchmarks} benchmarks re-indexed): "
        f"{report.now_rejected} newly rejected, {report.now_kept} newly kept, "
        f"{report.ids_changed} problem ids changed ({report.ids_changed_with_history} had rollouts)",
        markup=False,
    )
    rows = [{"reason": reason, "rows": n} for reason, n in report.rejected.most_common()]
    if rows:
        print_table(rows, ["reason", "rows"], title="rejected now")


def _json_columns(result: Result) -> set[str]:
    return {name for name, kind in result.types.items() if kind in JSON_TYPES}


def _emit(result: Result, *, fmt: str, output: Path | None, columns: list[str] | None = None) -> None:
    if fmt == "table":
        rows = result.table.to_pylist()
        print_table(rows, columns or result.table.column_names)
        return
    write_arrow(result.table, fmt=fmt, output=output, json_columns=_json_columns(result))


def show_problems(
    con: duckdb.DuckDBPyConnection,
    problem_filter: ProblemFilter,
    *,
    fmt: str,
    output: Path | None,
    columns: tuple[str, ...],
) -> None:
    from dataclasses import replace

    from srpo.catalog.queries import DEFAULT_TABLE_COLUMNS, count_problems, select_problems

    if fmt == "table":
        total = count_problems(con, problem_filter)
        if problem_filter.limit is None:
            problem_filter = replace(problem_filter, limit=DEFAULT_TABLE_LIMIT)
        result = select_problems(con, problem_filter, columns or DEFAULT_TABLE_COLUMNS)
        _emit(result, fmt=fmt, output=output)
        if result.table.num_rows < total:
            stderr().print(
                f"showing {result.table.num_rows} of {total} rows; use --limit, or --format jsonl/csv/parquet"
            )
        return
    _emit(select_problems(con, problem_filter, columns or None), fmt=fmt, output=output)


def show_sql(
    con: duckdb.DuckDBPyConnection, sql: str, *, fmt: str, output: Path | None, limit: int | None
) -> None:
    from srpo.catalog.queries import run_sql

    result = run_sql(con, sql)
    if limit is not None:
        result = type(result)(result.table.slice(0, limit), result.types)
    _emit(result, fmt=fmt, output=output)


def export_problems(
    con: duckdb.DuckDBPyConnection,
    problem_filter: ProblemFilter,
    *,
    target: str,
    fmt: str,
    output: Path | None,
) -> None:
    """Write kept problems (unless the filter says otherwise) in `target`'s shape; `fmt` comes
    from `export_format`."""
    from dataclasses import replace

    from srpo.catalog.queries import select_problems
    from srpo.cli.output import rows_from_dicts
    from srpo.curate.export import NEEDED_COLUMNS, export_rows

    if problem_filter.status is None:
        problem_filter = replace(problem_filter, status="kept")
    rows = select_problems(con, problem_filter, NEEDED_COLUMNS).table.to_pylist()
    shaped = export_rows(rows, target)
    if fmt == "jsonl":
        write_jsonl(shaped, output)
    elif not shaped:
        raise InputError(f"--export {target}: no problems match the filters, so no parquet file to write")
    else:
        write_arrow(rows_from_dicts(shaped), fmt=fmt, output=output)
    if output is not None:
        stderr().print(f"wrote {len(shaped)} {target} rows to {output}")


def export_format(target: str, given: str | None, output: Path | None) -> str:
    """An export's format: `--format`, else `-o`'s extension, else the one its trainer reads."""
    from srpo.curate.export import DEFAULT_FORMAT, EXPORTS

    check_choice("--export", target, EXPORTS)
    return output_format_for(
        given,
        output,
        default=DEFAULT_FORMAT[target],
        allowed=("jsonl", "parquet"),
        chooser=f"--export {target}",
    )


def show_stats(con: duckdb.DuckDBPyConnection, *, as_jsonl: bool) -> None:
    from srpo.catalog.queries import stats
    from srpo.curate.benchmarks import benchmark_counts

    results = stats(con)
    benchmarks = benchmark_counts(con)
    if as_jsonl:
        out = stdout()
        for name, result in results.items():
            for row in result.table.to_pylist():
                out.print(json.dumps({"table": name, **row}, default=str), markup=False)
        for row in benchmarks:
            out.print(json.dumps({"table": "benchmarks", **row}, default=str), markup=False)
        return
    titles = {
        "sources": "problems by source",
        "reasons": "reject reasons",
        "verification": "verification (kept problems)",
        "difficulty": "difficulty (kept problems)",
        "invalid": "invalid rows",
    }
    for name, result in results.items():
        rows = result.table.to_pylist()
        if rows:
            print_table(rows, result.table.column_names, title=titles[name])
    if benchmarks:
        print_table(benchmarks, list(benchmarks[0]), title="benchmarks (training problems each keeps out)")
    if not results["sources"].table.num_rows:
        stderr().print("the catalog holds no problems yet: run `srpo-curate ingest SOURCE`")


def show_next_epoch(
    con: duckdb.DuckDBPyConnection, run_id: str, *, fmt: str, output: Path | None, limit: int | None
) -> None:
    """The problems a training run's next epoch will train on, in order, and a summary line."""
    import pyarrow as pa

    from srpo.catalog.queries import Result
    from srpo.train.resampling import next_epoch_plan

    plan = next_epoch_plan(con, run_id)
    chosen = sorted((p for p in plan.judged if p.position is not None), key=lambda p: p.position or 0)
    columns = ("position", "problem_id", "domain", "history", "last_epoch", "correct", "samples")
    table = pa.Table.from_pylist([{c: getattr(p, c) for c in columns} for p in chosen[:limit]],
                                 schema=pa.schema([(c, pa.string() if c in ("problem_id", "domain", "history")
                                                    else pa.int64()) for c in columns]))  # fmt: skip
    counts = plan.counts()
    taken = ", ".join(f"{name} {counts[name]}" for name in ("new", "mixed", "all_wrong", "solved", "returned")
                      if counts[name])  # fmt: skip
    stderr().print(
        f"run {run_id}: epoch {plan.epoch} (stage {plan.stage}) trains on {len(chosen)} problems"
        f"{': ' + taken if taken else ''}; dropped {counts['dropped']} (all correct in their last epoch)"
        f", left out by the mix or epoch size {counts['subsampled']}",
        markup=False,
    )
    _emit(Result(table, {c: "VARCHAR" for c in columns}), fmt=fmt, output=output)


def show_behaviour(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    config: BehaviourConfig,
    *,
    fmt: str,
    output: Path | None,
    limit: int | None,
) -> None:
    """A run's reasoning behaviour per window (srpo.report.behaviour), and a summary line."""
    import pyarrow as pa

    from srpo.catalog.queries import Result
    from srpo.report.behaviour import COLUMNS, behaviour_rows

    rows = [row.as_dict() for row in behaviour_rows(con, run_id, config)]
    most: dict[int, int] = {}
    for row in rows:  # responses per window: the widest scope counted in it
        most[row["window"]] = max(most.get(row["window"], 0), row["responses"])
    per = "epoch" if config.window_steps is None else f"{config.window_steps}-step window"
    stderr().print(
        f"run {run_id}: {sum(most.values())} stored responses in {len(most)} {per}"
        + ("s" if len(most) != 1 else "")
        + ("" if rows else " (was logging.store_responses on?)"),
        markup=False,
    )
    rows = rows[:limit]
    if fmt == "table":
        for row in rows:
            row.pop("run_id")
            row["share"] = round(row["share"], 3)
            for key in ("mean_tokens_with", "mean_tokens_without"):
                row[key] = None if row[key] is None else round(row[key], 1)
        print_table(rows, [c for c in COLUMNS if c != "run_id"])
        return
    kinds = {"run_id": pa.string(), "behaviour": pa.string(), "scope": pa.string(), "share": pa.float64(),
             "mean_tokens_with": pa.float64(), "mean_tokens_without": pa.float64()}  # fmt: skip
    schema = pa.schema([(c, kinds.get(c, pa.int64())) for c in COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    _emit(Result(table, {c: "VARCHAR" for c in COLUMNS}), fmt=fmt, output=output)
