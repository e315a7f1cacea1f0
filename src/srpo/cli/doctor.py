"""`srpo-curate doctor`: which isolation code sandboxes get on this machine, and why.

Thin: `srpo.sandbox.diagnose` does the work (including a probe program that tries the network,
host files and a process bomb); this prints it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from srpo.cli.app import check_choice

_LEVELS = ("auto", "bwrap", "unshare", "rlimits")


def doctor(
    level: Annotated[
        str, typer.Option(help="Isolation level to check: auto, bwrap, unshare or rlimits.")
    ] = "auto",
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Show the isolation level code sandboxes get here, why, and what a probe program could do."""
    from srpo.sandbox import SandboxOptions
    from srpo.sandbox.diagnose import diagnose

    check_choice("--level", level, _LEVELS)
    check_choice("--format", output_format, ("text", "json"))
    found = diagnose(SandboxOptions(level=level))  # type: ignore[arg-type]
    if output_format == "json":
        typer.echo(json.dumps(asdict(found), indent=2))
    else:
        lines = [f"isolation: {found.level or 'none'}"]
        if found.error:
            lines.append(f"error: {found.error}")
        else:
            lines += [f"sandbox: {found.summary}", f"tool: {found.tool_version or '-'}"]
            lines += [f"note: {note}" for note in found.notes]
            zygote = found.zygote
            lines.append(f"pid namespace: {'yes' if zygote.get('pid_namespace') else 'no'}")
            lines.append(f"seccomp filter: {'on' if zygote.get('seccomp') else 'off'}")
            lines += [f"check {name}: {seen}" for name, seen in found.checks.items()]
            lines.append(f"checked in: {found.seconds:.2f} s")
        typer.echo("\n".join(lines))
    if found.error:
        raise typer.Exit(1)
