"""`srpo-train`: GRPO with history resampling over the catalog.

The training loop lives in `srpo.train` and needs the `train` extra (torch, transformers,
DeepSpeed); it is imported only when a run starts, so `srpo-train --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srpo.cli.common import run_app, set_debug
from srpo.errors import SrpoError

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
    model: Annotated[str, typer.Option(help="Model path or hub id (loaded with transformers).")],
    config: Annotated[Path | None, typer.Option(help="Training config (TOML or YAML).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Run GRPO on the catalog's kept, verified problems (stage 1 math, stage 2 math + code)."""
    set_debug(debug)
    raise SrpoError("the GRPO trainer is not built yet (tracked in issue 7); nothing was run")


def main() -> None:
    run_app(app, "srpo-train")


if __name__ == "__main__":
    main()
