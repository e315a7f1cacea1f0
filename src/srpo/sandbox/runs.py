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


def _records(report: str) -> list[dict[str, Any]]:
    found = []
    for line in report.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(record)
    return found


def _outcome(answer: dict[str, Any], error: dict[str, Any] | None) -> str:
    outcome = answer.get("outcome")
    if outcome == "harness_error":
        return "sandbox_error"
    if outcome != "exited":
        return str(outcome)
    if answer.get("signal") == 24:  # SIGXCPU: over RLIMIT_CPU
        return "timeout"
    died_of = str((error or {}).get("error", "")) or (answer.get("stderr") or "").strip()[-200:]
    if answer.get("exit_code") not in (0, None) and "MemoryError" in died_of:
        return "memory"
    return "exited"


def parse_answer(answer: dict[str, Any], *, nonce: str, isolation: str) -> RunResult:
    records = _records(str(answer.get("report", "")))
    done = next((r for r in records if r.get("kind") == "done" and r.get("nonce") == nonce), None)
    error = next((r for r in records if r.get("kind") == "error"), None)
    calls = tuple(
        CallOutcome(index=int(r.get("index", -1)), value_json=r.get("value"), error=r.get("error"))
        for r in records
        if r.get("kind") == "case"
    )
    summary = None
    if done is not None and "passed" in done:
        summary = AssertSummary(
            passed=int(done.get("passed", 0)),
            failed=int(done.get("failed", 0)),
            first_failure=done.get("first_failure"),
            tampered=tuple(str(t) for t in done.get("tampered") or ()),
        )
    return RunResult(
        outcome=_outcome(answer, error),
        isolation=isolation,
        exit_code=answer.get("exit_code"),
        signal=answer.get("signal"),
        wall_s=float(answer.get("wall_s", 0.0)),
        cpu_s=float(answer.get("cpu_s", 0.0)),
        stdout=str(answer.get("stdout", "")),
        stdout_truncated=bool(answer.get("stdout_truncated")),
        stderr=str(answer.get("stderr", "")),
        completed=done is not None,
        calls=calls,
        asserts=summary,
        error=error,
        detail=str(answer.get("error") or answer.get("retire") or ""),
        records=tuple(records),
    )
