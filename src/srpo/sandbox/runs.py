"""What to run in a sandbox, and what came back. Generic ways to run Python; no notion of a problem.

- `ScriptRun`: the program as `__main__`, `stdin` on its standard input.
- `CallRun`: load the program, call `fn_name(*args, **kwargs)` once per call, report each return
  value as JSON (or the exception).
- `AssertRun`: `prelude`, program, then assert-style `tests` (and `check(<entry_point>)` when the
  tests define `check`); report how many asserts passed and failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal[
    "exited",  # the main process ended by itself (look at exit_code / signal / records)
    "timeout",  # no progress for timeout_s, or over total_timeout_s, or over its CPU time
    "memory",  # over the memory ceiling (or the program died of MemoryError)
    "output_limit",  # wrote more than max_output_kb
    "process_limit",  # more tasks than max_processes
    "harness_lost",  # the sandbox's harness died during the run (the program killed it)
    "sandbox_error",  # the sandbox could not run it (start-up failure, protocol error)
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptRun:
    source: str
    stdin: str = ""
    mode: Literal["script"] = "script"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRun:
    source: str
    fn_name: str
    calls: Sequence[tuple[Sequence[Any], Mapping[str, Any] | None]]
    mode: Literal["call"] = "call"


@dataclass(frozen=True, slots=True, kw_only=True)
class AssertRun:
    source: str
    tests: str
    entry_point: str | None = None
    prelude: str | None = None
    mode: Literal["assert"] = "assert"


Run = ScriptRun | CallRun | AssertRun


def request_for(run: Run, *, nonce: str, limits: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "mode": run.mode,
        "source": run.source,
        "nonce": nonce,
        "limits": limits,
    }
    if isinstance(run, ScriptRun):
        request["stdin"] = run.stdin
    elif isinstance(run, CallRun):
        request["fn_name"] = run.fn_name
        request["calls"] = [[list(args), dict(kwargs or {})] for args, kwargs in run.calls]
    else:
        request.update(tests=run.tests, entry_point=run.entry_point, prelude=run.prelude)
    return request


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOutcome:
    """One call of a `CallRun`: the JSON text of its return value, or the exception it raised."""

    index: int
    value_json: str | None = None
    error: str | None = None

    def value(self) -> Any:
        return json.loads(self.value_json) if self.value_json is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssertSummary:
    passed: int
    failed: int
    first_failure: Mapping[str, Any] | None
    tampered: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    outcome: Outcome
    isolation: str
    """The isolation level this run had: bwrap, unshare or rlimits."""
    exit_code: int | None = None
    signal: int | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    stdout: str = ""
    stdout_truncated: bool = False
    stderr: str = ""
    completed: bool = False
    """The harness confirmed, with this run's nonce, that it ran to the end (call and assert)."""
    calls: tuple[CallOutcome, ...] = ()
    asserts: AssertSummary | None = None
    error: Mapping[str, Any] | None = None
    """An exception that stopped the run: phase (prelude, program, tests, entry), error, line."""
    detail: str = ""
    """Why the sandbox itself failed or had to be restarted."""
    records: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
