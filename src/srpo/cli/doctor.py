"""`srpo-curate doctor`: which isolation code sandboxes get on this machine, and why.

Thin: `srpo.sandbox.diagnose` does the work (including a probe program that tries the network,
host files and a process bomb); this prints it. Exits 1 when grading would refuse to run code
here (the level is below `--min-isolation`, the grader's `grader.sandbox.min_isolation`).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from srpo.cli.app import check_choice

_LEVELS = ("auto", "bwrap", "unshare", "rlimits")


def _text(found) -> list[str]:
    lines = [f"isolation: {found.level or 'none'}"]
    if found.error:
        return [*lines, f"error: {found.error}"]
    lines += [
        f"sandbox: {found.summary}",
        f"binary: {found.tool or '-'}",
        f"version: {found.tool_version or '-'}",
    ]
    if found.meets_minimum:
        lines.append(f"minimum: {found.minimum} (grader.sandbox.min_isolation): met")
    else:
        lines.append(
            f"minimum: {found.minimum} (grader.sandbox.min_isolation): NOT met, so verify, grade, "
            f"difficulty and srpo-train refuse to run code; accept {found.level!r} with "
            f"--set grader.sandbox.min_isolation={found.level}"
        )
    lines += [f"note: {note}" for note in found.notes]
    zygote = found.zygote
    lines.append(f"pid namespace: {'yes' if zygote.get('pid_namespace') else 'no'}")
    lines.append(f"seccomp filter: {'on' if zygote.get('seccomp') else 'off'}")
    lines.append(f"memory ceiling: {found.memory_ceiling}")
    lines += [f"check {name}: {seen}" for name, seen in found.checks.items()]
    lines.append(f"checked in: {found.seconds:.2f} s")
    return lines


def doctor(
    level: Annotated[
        str, typer.Option(help="Isolation level to check: auto, bwrap, unshare or rlimits.")
    ] = "auto",
    min_isolation: Annotated[
        str,
        typer.Option(
            help="The minimum to check against (grader.sandbox.min_isolation): bwrap, unshare or rlimits."
        ),
    ] = "bwrap",
    output_format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Show the isolation level code sandboxes get here, why, and what a probe program could do."""
    from srpo.sandbox import SandboxOptions
    from srpo.sandbox.diagnose import diagnose

    check_choice("--level", level, _LEVELS)
    check_choice("--min-isolation", min_isolation, _LEVELS[1:])
    check_choice("--format", output_format, ("text", "json"))
    found = diagnose(SandboxOptions(level=level, min_isolation=min_isolation))  # type: ignore[arg-type]
    if output_format == "json":
        typer.echo(json.dumps(asdict(found), indent=2))
    else:
        typer.echo("\n".join(_text(found)))
    if found.error or not found.meets_minimum:
        raise typer.Exit(1)
