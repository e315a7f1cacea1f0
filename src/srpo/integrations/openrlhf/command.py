"""The `srpo-reward-server` command line: flags for the everyday settings, `--config FILE` and
`--set key=value` for the rest (`ServerConfig`: `grader.*`, `run.*`, ...), errors as one line.

A console script of its own (not an `srpo-curate` command: the cli package never imports the
integrations). Covers: parsing and starting. Does not cover: serving (`server`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to listen on. Default: 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Port; 0 picks a free one. Default: 5000.")] = None,
    catalog: Annotated[
        str | None,
        typer.Option(
            help="Catalog for problem-id labels and the record. Default: $SRPO_CATALOG or ./srpo.duckdb."
        ),
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record", help="Record every completion whose label names a problem (a run of kind openrlhf)."
        ),
    ] = False,
    run_id: Annotated[
        str | None,
        typer.Option(help="The recorded run's id (implies --record); an existing one is continued."),
    ] = None,
    samples_per_prompt: Annotated[
        int | None,
        typer.Option(
            help="OpenRLHF's --n_samples_per_prompt: completions of a problem per epoch. Default: 1."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Grader workers and sandboxes. Default: 2.")] = None,
    timeout: Annotated[
        float | None,
        typer.Option(help="Seconds for one math comparison, and for each code test case. Default: 5."),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="TOML or YAML settings file.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A setting as key=value, e.g. grader.sandbox.memory_mb=512 (repeatable)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Log every request on stderr.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Serve srpo's graders to OpenRLHF's --remote_rm_url (POST {query, prompts, labels} ->
    {rewards, scores, extra_logs}); GET /health. Stops on Ctrl-C or SIGTERM."""
    from srpo.config import load_config, with_settings
    from srpo.errors import SrpoError
    from srpo.integrations.openrlhf.server import ServerConfig, serve

    try:
        settings = load_config(ServerConfig, config, tuple(set_ or ()))
        settings = with_settings(
            settings,
            {
                "host": host, "port": port, "run.catalog": catalog, "run.run_id": run_id,
                "record": True if (record or run_id) else None, "samples_per_prompt": samples_per_prompt,
                "grader.workers": workers, "grader.timeout_s": timeout,
            },
        )  # fmt: skip
        settings.grader.validate()
        settings.run.validate()
        if settings.samples_per_prompt < 1:
            raise typer.BadParameter("must be at least 1", param_hint="--samples-per-prompt")
        serve(settings, verbose=verbose)
    except SrpoError as error:
        if debug:
            raise
        print(f"srpo-reward-server: {error}", file=sys.stderr)
        raise typer.Exit(error.exit_code) from None
    except OSError as error:  # the port is taken, the address is not ours
        if debug:
            raise
        print(f"srpo-reward-server: cannot listen: {error.strerror or error}", file=sys.stderr)
        raise typer.Exit(1) from None


def main() -> None:
    """The `srpo-reward-server` console script."""
    app()
