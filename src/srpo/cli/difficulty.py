"""`srpo-curate difficulty`: parse options, call `srpo.curate.difficulty.run_difficulty`, print.

Registered on the `srpo-curate` app in `cli/curate.py`. The engine (torch, transformers, vLLM)
and DuckDB are imported inside the command, so `srpo-curate --help` stays fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from srpo.cli.app import check_choice
from srpo.cli.options import CatalogOpt, ConfigOpt, QuietOpt, SetOpt, SummaryFormatOpt, WhereOpt
from srpo.cli.output import print_table, stderr, stdout
from srpo.cli.progress import CountProgress
from srpo.errors import InputError

if TYPE_CHECKING:
    from srpo.curate.difficulty import DifficultyReport


def difficulty(
    model: Annotated[
        str | None, typer.Option(help="Model folder or hub id (openai: the served name); engine.model.")
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", help="Samples per problem, the n of pass@k (sampling.n).")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="transformers, vllm or openai (engine.backend).", show_default=False)
    ] = None,
    where: WhereOpt = None,
    limit: Annotated[int | None, typer.Option(help="Rate at most this many problems in this call.")] = None,
    run_id: Annotated[
        str | None,
        typer.Option(help="Resume this run (problems it sampled are skipped), or name a new one."),
    ] = None,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    quiet: QuietOpt = False,
    output_format: SummaryFormatOpt = "table",
    catalog: CatalogOpt = None,
) -> None:
    """Sample K responses per problem, grade them, and rate each problem easy, medium or hard.

    Every sample goes to `rollouts` under a `runs` row of kind difficulty; each problem gets
    pass_rate, pass_at_k (unbiased, k = 1, 2, 4, ... K) and difficulty. By default the kept,
    verified problems without a difficulty are rated. Re-run with --run-id to resume.

    Everything else is a setting (--config FILE, --set KEY=VALUE), with the same names as in
    srpo-train: engine.* (engine.batch_size, engine.dtype, engine.vllm.gpu_memory_utilization,
    engine.openai.base_url, ...), sampling.* (temperature, top_p, max_new_tokens, seed, stop),
    prompt.* (kind chat or plain, system_prompt, plain_template), grader.* (workers, timeout_s,
    sandbox.memory_mb, ...), thresholds.hard_below / easy_at, selection.* (sources, domains,
    include_pending, rerate), batch_size and keep_text.
    """
    from srpo.catalog import Catalog
    from srpo.config import load_config, with_settings
    from srpo.curate.difficulty import DifficultyConfig, run_difficulty

    check_choice("--format", output_format, ("table", "json"))
    settings = load_config(DifficultyConfig, config, overrides or ())
    settings = with_settings(
        settings,
        {"engine.model": model, "sampling.n": k, "engine.backend": backend, "selection.where": where},
    )
    if settings.engine.model is None:
        raise InputError("--model is required (or engine.model in --config)")
    settings.validate()
    opened = Catalog.open(catalog)
    with CountProgress("sampling", quiet=quiet, rate_unit="samples") as progress:
        report = run_difficulty(
            opened,
            settings,
            run_id=run_id,
            limit=limit,
            on_start=progress.start,
            on_progress=progress.advance,
        )
    print_difficulty_report(report, as_json=output_format == "json")


def print_difficulty_report(report: DifficultyReport, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), default=str))
        return
    busy = report.generate_s + report.grade_s + report.write_s

    def share(seconds: float) -> str:
        return f"{seconds:.1f}s ({100 * seconds / busy:.0f}%)" if busy else f"{seconds:.1f}s"

    out = stdout()
    verb = "resumed" if report.resumed else "run"
    out.print(
        f"{verb} {report.run_id}: {report.problems} problems rated, {report.samples} samples, "
        f"{report.elapsed_s:.1f}s, {report.samples_per_s:.2f} samples/s",
        markup=False,
    )
    rows = [
        {"": "problems selected", "value": report.selected},
        {"": "rated easy", "value": report.difficulties.get("easy", 0)},
        {"": "rated medium", "value": report.difficulties.get("medium", 0)},
        {"": "rated hard", "value": report.difficulties.get("hard", 0)},
        {"": "left unrated (grader errors)", "value": report.unrated},
        {"": "samples correct", "value": f"{report.correct} of {report.samples}"},
        {"": "cut at max tokens", "value": report.finish_reasons.get("length", 0)},
        {"": "generating", "value": share(report.generate_s)},
        {"": "grading", "value": share(report.grade_s)},
        {"": "writing", "value": share(report.write_s)},
    ]
    print_table(rows, ["", "value"])
    if report.statuses:
        statuses = ", ".join(f"{name} {count}" for name, count in report.statuses.most_common())
        out.print(f"grades: {statuses}", markup=False)
    if report.unrated:
        stderr().print(
            f"{report.unrated} problems were left unrated: the grader could not judge some samples "
            "(see rollouts.status = 'error')"
        )
