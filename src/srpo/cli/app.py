"""How every srpo command runs: errors as one line on stderr and an exit code, `--debug` (or
SRPO_DEBUG=1) for the traceback, and the small parsing helpers commands share.

Covers: running a typer app, debug state, list and choice options. Does not cover: option
declarations (`options`), printing (`output`) or progress bars (`progress`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer

from srpo.errors import InputError, SrpoError

_state = {"debug": os.environ.get("SRPO_DEBUG", "") not in ("", "0")}


def set_debug(enabled: bool) -> None:
    _state["debug"] = _state["debug"] or enabled


def run_app(app: typer.Typer, prog_name: str) -> None:
    """Run a typer app, turning srpo errors into one line and an exit code."""
    try:
        app(prog_name=prog_name, standalone_mode=True)
    except SrpoError as error:
        if _state["debug"]:
            raise
        print(f"{prog_name}: error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print(f"{prog_name}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # A reader such as `head` closed the pipe: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as error:
        if _state["debug"]:
            raise
        print(
            f"{prog_name}: internal error: {type(error).__name__}: {error} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)


def split_list(value: str | None) -> tuple[str, ...]:
    """`a,b , c` -> ('a', 'b', 'c')."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def check_choice(option: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise InputError(f"{option} must be one of {', '.join(choices)}, got {value!r}")
    return value
