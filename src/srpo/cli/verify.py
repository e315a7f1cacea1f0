"""`srpo-curate verify` and `srpo-curate grade`: parse options, call one library function, print.

Registered on the `srpo-curate` app in `cli/curate.py`. Heavy imports (DuckDB, sympy) happen
inside the commands, so `srpo-curate --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srpo.cli.app import check_choice, split_list
from srpo.cli.options import (
    CatalogOpt,
    ConfigOpt,
    DomainOpt,
    LimitOpt,
    QuietOpt,
    SetOpt,
    SourceOpt,
    SummaryFormatOpt,
    TimeoutOpt,
    WhereOpt,
    WorkersOpt,
)
from srpo.cli.output import print_table, stderr, stdout
from srpo.cli.progress import CountProgress

if TYPE_CHECKING:
    from srpo.verify.grade_file import GradeFileReport
    from srpo.verify.verify_catalog import VerifyReport


# ------------------------------------------------------------------------------------ verify


def verify(
    source: SourceOpt = None,
    domain: DomainOpt = None,
    where: WhereOpt = None,
    limit: LimitOpt = None,
    recheck: Annotated[
        bool, typer.Option(help="Also re-check problems already verified (default: pending only).")
    ] = False,
    include_rejected: Annotated[
        bool, typer.Option(help="Also problems the cleaning rules rejected (default: kept only).")
    ] = False,
    workers: WorkersOpt = None,
    timeout: TimeoutOpt = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    quiet: QuietOpt = False,
    output_format: SummaryFormatOpt = "table",
    catalog: CatalogOpt = None,
) -> None:
    """Check math golds and code reference solutions; store verify_status / verify_reason.

    A math gold is verified when it parses and agrees with the reference solution's boxed answer
    (where there is one); ambiguous when it lists several answers for a question that asks for
    one, or keeps only part of the solution's answers; wrong when it disagrees with the
    solution; unverifiable when it cannot be read. A code problem's reference solution runs
    twice on all its tests in the sandbox: verified, wrong (first failing case), flaky or
    unverifiable (no solution or tests). Re-runs pick up pending problems only.

    Settings (--config, --set): grader.* (workers, timeout_s: 10 by default here, sandbox.*),
    selection.*, batch_size.
    """
    from srpo.catalog import Catalog
    from srpo.config import load_config, with_settings
    from srpo.verify.verify_catalog import VerifyConfig, verify_catalog

    check_choice("--format", output_format, ("table", "json"))
    options = with_settings(
        load_config(VerifyConfig, config, overrides or ()),
        {
            "selection.sources": split_list(source) or None, "selection.domains": split_list(domain) or None,
            "selection.where": where, "selection.limit": limit, "selection.recheck": recheck or None,
            "selection.include_rejected": include_rejected or None,
            "grader.workers": workers, "grader.timeout_s": timeout,
        },
    )  # fmt: skip
    options.selection.validate()
    opened = Catalog.open(catalog)
    with CountProgress("verifying", quiet=quiet) as progress:
        report = verify_catalog(opened, options, on_start=progress.start, on_progress=progress.advance)
    print_verify_report(report, as_json=output_format == "json")


def print_verify_report(report: VerifyReport, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), default=str))
        return
    statuses = ("verified", "ambiguous", "wrong", "flaky", "unverifiable")
    rows = [
        {"source": source, **{s: counts.get(s, 0) for s in statuses}, "total": sum(counts.values())}
        for source, counts in sorted(report.by_source.items())
    ]
    stdout().print(
        f"checked {report.checked} problems (math golds; code reference solutions, run twice) "
        f"in {report.elapsed_s:.1f}s",
        markup=False,
    )
    if rows:
        print_table(rows, ["source", *statuses, "total"])
    reasons = [
        {"status": status, "reason": code, "problems": n}
        for (status, code), n in report.by_reason.most_common()
    ]
    if reasons:
        print_table(reasons, ["status", "reason", "problems"], title="by reason")
    examples = [
        {"source": e.source, "index": e.source_index, "gold": e.answer, "reason": e.reason}
        for examples in report.examples.values()
        for e in examples
    ]
    if examples:
        print_table(examples, ["source", "index", "gold", "reason"], title="examples")
    if not report.selected:
        stderr().print("no problems to verify (pending kept problems); use --recheck to re-check")


# ------------------------------------------------------------------------------------- grade


def grade(
    input_path: Annotated[
        Path,
        typer.Option(
            "--in",
            help="JSONL of responses: id, domain, answer (or problem_id), response. '-': stdin.",
        ),
    ],
    output_path: Annotated[Path, typer.Option("--out", help="Where the graded JSONL goes. '-': stdout.")],
    workers: WorkersOpt = None,
    timeout: TimeoutOpt = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    quiet: QuietOpt = False,
    output_format: SummaryFormatOpt = "table",
    catalog: CatalogOpt = None,
) -> None:
    """Grade model responses: each output line adds reward, status, extracted and detail.

    Status is correct (reward 1), wrong, no_answer, timeout or error (reward 0). The answer is
    the last \\boxed{} of a response, else an explicit "final answer" phrase; code runs in the
    sandbox. Output keeps the input order, one line per input line; unreadable lines are reported
    with their line number. Settings (--config, --set): grader.* (workers, timeout_s,
    sandbox.memory_mb, sandbox.total_timeout_s, ...), batch_size.
    """
    from srpo.config import load_config, with_settings
    from srpo.verify.config import GradingConfig
    from srpo.verify.grade_file import GradeFileOptions, grade_file

    check_choice("--format", output_format, ("table", "json"))
    settings = with_settings(
        load_config(GradingConfig, config, overrides or ()),
        {"grader.workers": workers, "grader.timeout_s": timeout},
    )
    options = GradeFileOptions(
        input=input_path, output=output_path, grader=settings.grader, batch_size=settings.batch_size,
        catalog=catalog,
    )  # fmt: skip
    with CountProgress("grading", quiet=quiet) as progress:
        report = grade_file(options, on_progress=progress.advance)
    print_grade_report(report, as_json=output_format == "json", output=output_path)


def print_grade_report(report: GradeFileReport, *, as_json: bool, output: Path) -> None:
    """On stderr, so that `--out -` can be piped."""
    console = stderr()
    if as_json:
        console.print(json.dumps(report.to_dict(), default=str), markup=False, soft_wrap=True)
        return
    rate = report.lines / report.elapsed_s if report.elapsed_s else 0.0
    console.print(
        f"graded {report.lines} responses in {report.elapsed_s:.1f}s ({rate:.0f}/s), "
        f"mean reward {report.mean_reward:.3f} -> {output}",
        markup=False,
    )
    for status, count in sorted(report.statuses.items(), key=lambda kv: -kv[1]):
        console.print(f"  {status:<10} {count}", markup=False)
    if report.bad_lines:
        console.print(f"{report.bad_lines} lines could not be graded:", markup=False)
        for example in report.bad_examples:
            console.print(f"  {example}", markup=False)
