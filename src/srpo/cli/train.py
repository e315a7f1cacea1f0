"""`srpo-train`: GRPO with history resampling over the catalog.

Parses options, calls `srpo.train.launch.launch`, prints. The training stack (torch,
transformers, DeepSpeed) is imported only when a run starts, so `srpo-train --help` stays fast.
Multi-GPU runs use a launcher: `deepspeed --num_gpus 8 -m srpo.cli.train ...` or
`torchrun --nproc-per-node 8 -m srpo.cli.train ...` (the `deepspeed` launcher adds
`--local_rank`, accepted and ignored here: LOCAL_RANK is read from the environment).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from srpo.cli.app import run_app, set_debug
from srpo.cli.output import stderr

app = typer.Typer(
    name="srpo-train",
    help="Train a reasoning model with GRPO on catalog problems, resampling by history each epoch.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command()
def train(
    from_catalog: Annotated[
        Path, typer.Option("--from-catalog", help="Catalog file to train from.", envvar="SRPO_CATALOG")
    ],
    model: Annotated[
        str | None,
        typer.Option(help="Model folder or hub id (transformers); a resumed run defaults to its own."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Training config (TOML or YAML); see srpo.train.config.TrainConfig."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one setting, e.g. --set sampling.n=16 (repeatable)."),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(help="Continue this run from its latest checkpoint (its stored config, plus --set)."),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option(help="Name the new run (default: train-DATE-TIME-XXXX).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-step lines on stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    local_rank: Annotated[int, typer.Option("--local_rank", "--local-rank", hidden=True)] = -1,
) -> None:
    """Run GRPO on the catalog's kept, verified problems (stage 1 math, stage 2 math + code).

    After every epoch, problems whose rollouts were all correct are dropped from the next one
    (history resampling); `srpo-curate query --next-epoch RUN_ID` shows the next set. Every
    rollout is written to the catalog; metrics go to OUTPUT/metrics.jsonl.
    """
    set_debug(debug)
    from srpo.train.launch import launch

    main_rank = os.environ.get("RANK", "0") == "0"
    _configure_logging(quiet=quiet or not main_rank)
    settings: dict[str, Any] = {}

    def on_config(resolved: dict[str, Any]) -> None:
        settings.update(resolved)
        _print_config(resolved)

    report = launch(
        catalog_path=from_catalog,
        model=model,
        config_path=config,
        overrides=tuple(overrides or ()),
        resume=resume,
        run_id=run_id,
        on_config=on_config if main_rank else None,
        on_step=None if quiet else _step_printer(settings),
    )
    if main_rank:
        _print_report(report)


def _configure_logging(*, quiet: bool) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="srpo-train: %(message)s")


def _print_config(settings: dict[str, Any]) -> None:
    import yaml

    stderr().print(yaml.safe_dump(settings, sort_keys=False).rstrip(), markup=False)


def _step_printer(settings: dict[str, Any]):
    console = stderr()

    def show(metrics: dict[str, Any]) -> None:
        every = max(1, int(settings.get("logging", {}).get("print_every", 1)))
        if metrics["step"] % every:
            return
        console.print(step_line(metrics), markup=False)

    return show


def step_line(metrics: dict[str, Any]) -> str:
    """One step in one line: where, how well (reward, accuracy), how, how fast."""
    parts = [
        f"step {metrics['step']} · epoch {metrics['epoch']} · stage {metrics['stage']}",
        f"reward {metrics['reward/mean']:.3f}",
        f"acc {metrics['accuracy/mean']:.3f}",
        f"zero-std {metrics['frac_reward_zero_std']:.2f}",
        f"len {metrics['response_length/mean']:.1f}",
        f"loss {metrics['loss']:+.4f}",
    ]
    if metrics.get("kl"):
        parts.append(f"kl {metrics['kl']:.4f}")
    if metrics.get("sampling/logp_diff/mean") is not None:  # the engine gave its log-probs
        parts.append(f"logp diff {metrics['sampling/logp_diff/mean']:.2g}")
    parts += [f"{metrics['samples_per_s']:.1f} samples/s", f"{metrics['time/step_s']:.2f} s"]
    return " · ".join(parts)


def _print_report(report: Any) -> None:
    out = stderr()
    first = f"{report.rewards[0]:.3f}" if report.rewards else "-"
    last = f"{report.rewards[-1]:.3f}" if report.rewards else "-"
    out.print(
        f"run {report.run_id}: {report.status} ({report.stop_reason}), steps {report.first_step}-"
        f"{report.last_step}, reward first {first} last {last}",
        markup=False,
    )
    if report.stage_switch_step is not None:
        out.print(f"switched to stage 2 after step {report.stage_switch_step}", markup=False)
    out.print(f"output: {report.output_dir}", markup=False)
    out.print(f"next epoch: srpo-curate query --next-epoch {report.run_id}", markup=False)


def main() -> None:
    run_app(app, "srpo-train")


if __name__ == "__main__":
    main()
