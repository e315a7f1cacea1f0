"""Judging one program against its tests (the catalog's stdio, call or assert format) in a sandbox.

The comparisons happen here, in srpo's process: expected stdio output and expected return values
never enter the sandbox, so a program cannot read them or forge a match.

- stdio: one run per case; outputs are equal when they match line by line after trailing
  whitespace is stripped from each line and trailing empty lines are dropped.
- call: one run for all cases; each return value is compared with the expected one after a JSON
  round trip of both, by value and by type (so `1 != 1.0 != True`, tuples equal lists, and an
  object whose `__eq__` always answers True never reaches the comparison; floats may differ by a
  relative 1e-9).
- assert: one run; passes when every assert passed, the harness confirmed completion with the
  run's nonce, and the program tampered with nothing the tests rely on.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from srpo.catalog.testspec import AssertTests, CallTests, CodeTests, StdioTests, case_count
from srpo.sandbox import AssertRun, CallRun, Limits, RunResult, Sandbox, ScriptRun

CodeStatus = Literal["passed", "failed", "timeout", "memory", "runtime_error", "no_code", "sandbox_error"]
_EXCERPT = 200
_OUTCOME_STATUS: dict[str, CodeStatus] = {
    "timeout": "timeout",
    "memory": "memory",
    "output_limit": "runtime_error",
    "process_limit": "runtime_error",
    "harness_lost": "runtime_error",
    "sandbox_error": "sandbox_error",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFailure:
    """The first case that did not pass, and why."""

    case: int | None
    """Index of the stdio/call case, or of the failing assert's run; None when no case ran."""
    reason: str
    """One line: `wrong output`, `AssertionError`, `timeout`, `ZeroDivisionError: ...`."""
    input: str | None = None
    expected: str | None = None
    got: str | None = None
    line: int | None = None
    """Line of the test code (assert) or of the program (an exception) where it failed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    status: CodeStatus
    cases_passed: int
    cases_total: int
    failure: CaseFailure | None
    isolation: str


def excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def status_of_error(error: str) -> CodeStatus:
    """A false assert is a wrong answer; an exception from the program is a runtime error."""
    if error.startswith("AssertionError"):
        return "failed"
    return "memory" if error.startswith("MemoryError") else "runtime_error"


def normalise_output(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def same_value(got: Any, expected: Any) -> bool:
    """Equal by type and value, recursively (both sides already JSON round-tripped)."""
    if type(got) is not type(expected):
        return False
    if isinstance(got, list):
        return len(got) == len(expected) and all(map(same_value, got, expected))
    if isinstance(got, dict):
        return got.keys() == expected.keys() and all(same_value(got[k], expected[k]) for k in got)
    if isinstance(got, float):
        return got == expected or math.isclose(got, expected, rel_tol=1e-9, abs_tol=0.0)
    return got == expected


def _run_failure(result: RunResult, case: int | None) -> Verdict | None:
    """The status when the run itself did not end normally (time, memory, output, crash)."""
    if result.outcome in _OUTCOME_STATUS:
        reason = result.outcome.replace("_", " ") + (f": {result.detail}" if result.detail else "")
        return _OUTCOME_STATUS[result.outcome], CaseFailure(case=case, reason=reason)
    if result.error is not None and result.error.get("phase") != "tests":
        line = result.error.get("line")
        where = f"{result.error.get('phase')} raised " if result.error.get("phase") else ""
        reason = where + str(result.error.get("error"))
        return "runtime_error", CaseFailure(case=case, reason=reason, line=line)
    if result.signal is not None:
        return "runtime_error", CaseFailure(case=case, reason=f"killed by signal {result.signal}")
    return None


Verdict = tuple[CodeStatus, CaseFailure]


def _judge_stdio_run(result: RunResult, index: int, case: Any) -> Verdict | None:
    failed = _run_failure(result, index)
    if failed is not None:
        return failed
    if result.exit_code != 0:
        last = (result.stderr.strip().splitlines() or [f"exit code {result.exit_code}"])[-1]
        failure = CaseFailure(case=index, reason=excerpt(last), input=excerpt(case.input))
        return "runtime_error", failure
    if result.stdout_truncated or normalise_output(result.stdout) != normalise_output(case.output):
        return "failed", CaseFailure(
            case=index,
            reason="wrong output",
            input=excerpt(case.input),
            expected=excerpt(case.output),
            got=excerpt(result.stdout),
        )
    return None


def judge_stdio(
    sandbox: Sandbox,
    program: str,
    tests: StdioTests,
    limits: Limits,
    *,
    stop_at_first_failure: bool,
) -> Judgement:
    deadline = time.monotonic() + limits.total_timeout_s
    passed, status, failure = 0, "passed", None
    for index, case in enumerate(tests.cases):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            verdict = (
                "timeout",
                CaseFailure(case=index, reason="out of total time for the program"),
            )
        else:
            run = ScriptRun(source=program, stdin=case.input)
            result = sandbox.run(run, limits, total_timeout_s=remaining)
            verdict = _judge_stdio_run(result, index, case)
        if verdict is None:
            passed += 1
            continue
        if failure is None:
            status, failure = verdict
        if stop_at_first_failure or verdict[0] in ("timeout", "sandbox_error"):
            break
    return Judgement(
        status=status,
        cases_passed=passed,
        cases_total=len(tests.cases),
        failure=failure,
        isolation=sandbox.plan.level,
    )


def judge_call(sandbox: Sandbox, program: str, tests: CallTests, limits: Limits) -> Judgement:
    calls = [(case.args, case.kwargs) for case in tests.cases]
    run = CallRun(source=program, fn_name=tests.fn_name, calls=calls)
    result = sandbox.run(run, limits)
    returned = {outcome.index: outcome for outcome in result.calls}
    passed, status, failure = 0, "passed", None
    for index, case in enumerate(tests.cases):
        outcome, verdict = returned.get(index), None
        expected = json.loads(json.dumps(case.expected))
        given = excerpt(list(case.args))
        if outcome is None:
            ended = CaseFailure(case=index, reason="the program ended before this case")
            verdict = _run_failure(result, index) or ("runtime_error", ended)
        elif outcome.error is not None:
            raised = CaseFailure(case=index, reason=excerpt(outcome.error), input=given)
            verdict = (status_of_error(outcome.error), raised)
        elif not same_value(outcome.value(), expected):
            got = excerpt(outcome.value_json or "")
            wrong = CaseFailure(
                case=index, reason="wrong value", input=given, expected=excerpt(expected), got=got
            )
            verdict = ("failed", wrong)
        if verdict is None:
            passed += 1
        elif failure is None:
            status, failure = verdict
    if failure is None and not result.completed:
        unconfirmed = "the harness did not confirm that every case ran"
        status, failure = "runtime_error", CaseFailure(case=None, reason=unconfirmed)
    return Judgement(
        status=status,
        cases_passed=passed,
        cases_total=len(tests.cases),
        failure=failure,
        isolation=sandbox.plan.level,
    )


def _assert_verdict(result: RunResult) -> tuple[CodeStatus, CaseFailure | None]:
    failed = _run_failure(result, None)
    if failed is not None:
        return failed
    summary = result.asserts
    if result.error is not None or summary is None or not result.completed:
        error = result.error or {}
        reason = str(error.get("error") or "the harness did not confirm that the tests ran to the end")
        return status_of_error(reason), CaseFailure(case=None, reason=excerpt(reason), line=error.get("line"))
    if summary.tampered:
        return "failed", CaseFailure(case=None, reason=excerpt(summary.tampered[0]))
    if summary.failed:
        first = summary.first_failure or {}
        reason = excerpt(str(first.get("error", "AssertionError")))
        text = excerpt(str(first.get("text", "")))
        return status_of_error(reason), CaseFailure(
            case=None, reason=reason, got=text, line=first.get("line")
        )
    if summary.passed == 0:
        return "failed", CaseFailure(case=None, reason="the tests ran no assert")
    return "passed", None


def judge_assert(sandbox: Sandbox, program: str, tests: AssertTests, limits: Limits) -> Judgement:
    run = AssertRun(source=program, tests=tests.code, entry_point=tests.entry_point, prelude=tests.prelude)
    result = sandbox.run(run, limits)
    status, failure = _assert_verdict(result)
    summary = result.asserts
    if summary is not None and result.completed:
        passed, total = summary.passed, summary.passed + summary.failed
        if summary.tampered:
            passed = 0
    else:
        passed, total = 0, case_count(tests)
    return Judgement(
        status=status,
        cases_passed=passed,
        cases_total=max(total, 1),
        failure=failure,
        isolation=sandbox.plan.level,
    )


def judge(
    sandbox: Sandbox,
    program: str,
    tests: CodeTests,
    limits: Limits,
    *,
    stop_at_first_failure: bool = True,
) -> Judgement:
    if isinstance(tests, StdioTests):
        stop = stop_at_first_failure
        return judge_stdio(sandbox, program, tests, limits, stop_at_first_failure=stop)
    if isinstance(tests, CallTests):
        return judge_call(sandbox, program, tests, limits)
    return judge_assert(sandbox, program, tests, limits)
