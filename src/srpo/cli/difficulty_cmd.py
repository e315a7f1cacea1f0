"""`srpo-curate difficulty`: parse options, call `srpo.curate.difficulty.run_difficulty`, print.

Registered on the `srpo-curate` app in `cli/curate.py`. The engine (torch, transformers, vLLM)
and DuckDB are imported inside the command, so `srpo-curate --help` stays fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from srpo.cli.common import CatalogOpt, CountProgress, check_choice, print_table, split_list, stderr, stdout

if TYPE_CHECKING:
    from srpo.curate.difficulty import DifficultyReport

ENGINE = "Engine"
SAMPLING = "Sampling"
SELECTION = "Selection"


def difficulty(
    model: Annotated[str, typer.Option(help="Model folder or hub id (for openai: the served model name).")],
    k: Annotated[int, typer.Option("--k", help="Samples per problem (the n of pass@k).")] = 8,
    backend: Annotated[
        str, typer.Option(help="transformers, vllm or openai.", rich_help_panel=ENGINE)
    ] = "transformers",
    where: Annotated[
        str | None,
        typer.Option(
            help="Extra SQL condition on problems, e.g. \"split = 'train'\".", rich_help_panel=SELECTION
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Rate at most this many problems.", rich_help_panel=SELECTION)
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source names, comma-separated.", rich_help_panel=SELECTION)
    ] = None,
    domain: Annotated[
        str | None, typer.Option(help="math and/or code, comma-separated.", rich_help_panel=SELECTION)
    ] = None,
    include_pending: Annotated[
        bool,
        typer.Option(help="Also problems whose gold is not verified yet.", rich_help_panel=SELECTION),
    ] = False,
    rerate: Annotated[
        bool, typer.Option(help="Also problems that already have a difficulty.", rich_help_panel=SELECTION)
    ] = False,
    run_id: Annotated[
        str | None,
        typer.Option(help="Resume this run (problems it sampled are skipped), or name a new one."),
    ] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.", rich_help_panel=SAMPLING)] = 1.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling.", rich_help_panel=SAMPLING)] = 1.0,
    max_new_tokens: Annotated[
        int, typer.Option(help="Longest response in tokens.", rich_help_panel=SAMPLING)
    ] = 1024,
    seed: Annotated[int, typer.Option(help="Sampling seed.", rich_help_panel=SAMPLING)] = 0,
    stop: Annotated[
        list[str] | None, typer.Option(help="A stop string (repeat for several).", rich_help_panel=SAMPLING)
    ] = None,
    prompt_format: Annotated[
        str,
        typer.Option(
            help="chat (the model's chat template) or plain (--plain-template).", rich_help_panel=SAMPLING
        ),
    ] = "chat",
    system_prompt: Annotated[
        str | None, typer.Option(help="Chat: a system message.", rich_help_panel=SAMPLING)
    ] = None,
    plain_template: Annotated[
        str | None,
        typer.Option(help="Plain: a template with {prompt}, or r1-zero.", rich_help_panel=SAMPLING),
    ] = None,
    hard_below: Annotated[float, typer.Option(help="Pass rate below this is hard.")] = 0.2,
    easy_at: Annotated[float, typer.Option(help="Pass rate at or above this is easy.")] = 0.8,
    batch_size: Annotated[int, typer.Option(help="Problems per generate call and per write.")] = 32,
    device: Annotated[
        str | None, typer.Option(help="transformers: cpu, cuda, auto.", rich_help_panel=ENGINE)
    ] = None,
    dtype: Annotated[
        str | None, typer.Option(help="transformers/vllm: float32, bfloat16, ...", rich_help_panel=ENGINE)
    ] = None,
    engine_batch_size: Annotated[
        int | None,
        typer.Option(help="transformers: sequences per generate call.", rich_help_panel=ENGINE),
    ] = None,
    tensor_parallel_size: Annotated[
        int | None, typer.Option(help="vllm: GPUs per model.", rich_help_panel=ENGINE)
    ] = None,
    gpu_memory_utilization: Annotated[
        float | None, typer.Option(help="vllm: share of GPU memory.", rich_help_panel=ENGINE)
    ] = None,
    max_model_len: Annotated[
        int | None, typer.Option(help="vllm: longest prompt + response.", rich_help_panel=ENGINE)
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="openai: the API root, e.g. http://host:8000/v1.", rich_help_panel=ENGINE),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Grader worker processes.")] = 2,
    timeout: Annotated[float, typer.Option(help="Seconds allowed to grade one response.")] = 5.0,
    keep_text: Annotated[bool, typer.Option(help="Store response texts in rollouts.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar on stderr.")] = False,
    output_format: Annotated[str, typer.Option("--format", "-f", help="Summary as table or json.")] = "table",
    catalog: CatalogOpt = None,
) -> None:
    """Sample K responses per problem, grade them, and rate each problem easy, medium or hard.

    Every sample goes to `rollouts` under a `runs` row of kind difficulty; each problem gets
    pass_rate, pass_at_k (unbiased, k = 1, 2, 4, ... K) and difficulty. By default the kept,
    verified problems without a difficulty are rated. Re-run with --run-id to resume.
    """
    from srpo.catalog import Catalog
    from srpo.catalog.ratings import RateSelection
    from srpo.curate.difficulty import DifficultyOptions, run_difficulty
    from srpo.curate.passk import DifficultyThresholds
    from srpo.rollout import SamplingConfig, engine_config
    from srpo.rollout.prompts import PLAIN_TEMPLATE, R1_ZERO_TEMPLATE, PromptTemplate

    check_choice("--format", output_format, ("table", "json"))
    template = R1_ZERO_TEMPLATE if plain_template == "r1-zero" else (plain_template or PLAIN_TEMPLATE)
    engine = engine_config(
        backend, model=model, device=device, dtype=dtype, batch_size=engine_batch_size,
        tensor_parallel_size=tensor_parallel_size, gpu_memory_utilization=gpu_memory_utilization,
        max_model_len=max_model_len, base_url=base_url,
    )  # fmt: skip
    options = DifficultyOptions(
        engine=engine,
        sampling=SamplingConfig(
            n=k,
            temperature=temperature,
            top_p=top_p,
            max_new_tokens=max_new_tokens,
            seed=seed,
            stop=tuple(stop or ()),
        ),
        k=k,
        prompt=PromptTemplate(kind=prompt_format, system_prompt=system_prompt, plain_template=template),
        thresholds=DifficultyThresholds(hard_below=hard_below, easy_at=easy_at),
        selection=RateSelection(
            sources=split_list(source),
            domains=split_list(domain),
            where=where,
            include_pending=include_pending,
            rerate=rerate,
        ),
        limit=limit,
        run_id=run_id,
        batch_size=batch_size,
        workers=workers,
        grade_timeout_s=timeout,
        keep_text=keep_text,
    )
    options.validate()
    opened = Catalog.open(catalog)
    with CountProgress("sampling", quiet=quiet, rate_unit="samples") as progress:
        report = run_difficulty(opened, options, on_start=progress.start, on_progress=progress.advance)
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
