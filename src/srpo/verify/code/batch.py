"""Code grading and reference verification: the calls the reward path and `srpo-curate` make.

    grades = grade_code_batch([CodeItem(response=text, tests=problem.tests)], workers=8)
    grades[0].reward, grades[0].status, grades[0].passed_fraction, grades[0].failure

    checks = verify_references([ReferenceItem(solution=s, tests=t) for s, t in pairs], runs=2)
    checks[0].status  # verified, wrong, unverifiable or flaky

Programs run in `srpo.sandbox` sandboxes (a process-wide pool by default, so repeated calls pay
sandbox start-up once); tests are the catalog's JSON format (`srpo.catalog.testspec`), judged by
`judge`. Results keep the input order; an item that breaks anything in srpo becomes a
`sandbox_error` grade instead of losing the batch. Every time limit is enforced by a parent that
kills (`srpo.sandbox.Limits`). Not here: catalog writes and the CLI commands that call these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from srpo.catalog.testspec import (
    AssertTests,
    CallTests,
    CodeTests,
    StdioTests,
    TestFormatError,
    case_count,
    parse_tests,
)
from srpo.sandbox import (
    DEFAULT_LIMITS,
    DEFAULT_OPTIONS,
    IsolationBelowMinimum,
    Limits,
    SandboxOptions,
    SandboxPool,
    shared_pool,
)
from srpo.verify.code.extract import extract_code
from srpo.verify.code.judge import CaseFailure, CodeStatus, judge

__all__ = [
    "CaseFailure",
    "CodeGrade",
    "CodeItem",
    "CodeStatus",
    "CodeVerification",
    "ReferenceItem",
    "VerifyStatus",
    "extract_code",
    "grade_code",
    "grade_code_batch",
    "sandbox_pool",
    "verify_reference",
    "verify_references",
]

VerifyStatus = Literal["verified", "wrong", "unverifiable", "flaky"]
TestsValue = CodeTests | Mapping[str, Any] | str
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeItem:
    """One response to grade against one problem's tests."""

    response: str
    """The model's response (the program is its last fenced Python block), or the program."""
    tests: TestsValue
    """The problem's tests: parsed, or the catalog's JSON object or string."""
    is_code: bool = False
    """`response` is the program itself: no extraction."""
    limits: Limits | None = None
    """This item's own limits (e.g. a problem's time limit); None: the batch's."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeGrade:
    reward: float
    """1.0 only if every case passed, else 0.0."""
    status: CodeStatus
    passed_fraction: float
    cases_passed: int
    cases_total: int
    extracted: str | None
    """The program that ran (None: no code found)."""
    isolation: str
    """The sandbox's isolation level (bwrap, unshare, rlimits); empty if nothing ran."""
    failure: CaseFailure | None
    """The first case that failed, with the reason."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceItem:
    solution: str | None
    tests: TestsValue | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeVerification:
    status: VerifyStatus
    reason: str
    """One line: why it is not verified (empty when it is)."""
    failure: CaseFailure | None
    grades: tuple[CodeGrade, ...]
    """One grade per run of the reference solution."""
    isolation: str


def _parse(value: TestsValue) -> CodeTests:
    if isinstance(value, (StdioTests, CallTests, AssertTests)):
        return value
    return parse_tests(value)


def _has_cases(tests: CodeTests) -> bool:
    return bool(tests.code.strip()) if isinstance(tests, AssertTests) else bool(tests.cases)


def _grade(
    program: str | None,
    tests: CodeTests,
    pool: SandboxPool,
    limits: Limits,
    stop_at_first_failure: bool,
) -> CodeGrade:
    if program is None:
        return CodeGrade(
            reward=0.0,
            status="no_code",
            passed_fraction=0.0,
            cases_passed=0,
            cases_total=case_count(tests),
            extracted=None,
            isolation="",
            failure=CaseFailure(case=None, reason="no fenced python block"),
        )
    with pool.lease() as sandbox:
        verdict = judge(sandbox, program, tests, limits, stop_at_first_failure=stop_at_first_failure)
    total = max(verdict.cases_total, 1)
    passed = verdict.status == "passed"
    return CodeGrade(
        reward=1.0 if passed else 0.0,
        status=verdict.status,
        passed_fraction=verdict.cases_passed / total,
        cases_passed=verdict.cases_passed,
        cases_total=verdict.cases_total,
        extracted=program,
        isolation=verdict.isolation,
        failure=verdict.failure,
    )


def _error_grade(program: str | None, error: BaseException, isolation: str = "") -> CodeGrade:
    reason = f"{type(error).__name__}: {error}"
    return CodeGrade(
        reward=0.0,
        status="sandbox_error",
        passed_fraction=0.0,
        cases_passed=0,
        cases_total=0,
        extracted=program,
        isolation=isolation,
        failure=CaseFailure(case=None, reason=reason[:300]),
    )


def grade_code(
    item: CodeItem,
    *,
    limits: Limits = DEFAULT_LIMITS,
    pool: SandboxPool | None = None,
    stop_at_first_failure: bool = True,
) -> CodeGrade:
    """Grade one item; see `grade_code_batch`."""
    program = item.response if item.is_code else extract_code(item.response)
    try:
        tests = _parse(item.tests)
    except TestFormatError as error:
        return _error_grade(program, error)
    pool = pool or sandbox_pool()  # outside the `try`: a refused sandbox stops the caller
    try:
        return _grade(program, tests, pool, item.limits or limits, stop_at_first_failure)
    except Exception as error:  # one broken item must not lose the batch
        return _error_grade(program, error, pool.isolation)


def _in_order(function: Callable[[_T], _R], items: Sequence[_T], workers: int) -> list[_R]:
    """`function` over `items` on `workers` threads, results in input order. Each thread takes the
    next item itself and the caller waits once for all (not once per item: every wake-up is a
    context switch, and a code reward is only a few of them)."""
    if workers <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    results: list[Any] = [None] * len(items)
    positions = iter(range(len(items)))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                index = next(positions, None)
            if index is None:
                return
            results[index] = function(items[index])

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="srpo-grade") as executor:
        for future in [executor.submit(work) for _ in range(min(workers, len(items)))]:
            future.result()  # re-raises what a worker raised
    return results


def grade_code_batch(
    items: Sequence[CodeItem],
    *,
    workers: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    pool: SandboxPool | None = None,
    sandbox: SandboxOptions = DEFAULT_OPTIONS,
    stop_at_first_failure: bool = True,
) -> list[CodeGrade]:
    """Grade every item on `workers` sandboxes (default: one per CPU), in input order; each
    sandbox has a second item's run waiting while it runs one (see `srpo.sandbox.pool`).

    `pool`: sandboxes to use (default: the process-wide pool of `workers` sandboxes started with
    the `sandbox` options).
    `stop_at_first_failure`: stdio tests stop at the first failing case (the reward is 0 anyway);
    False runs every case, for an exact `passed_fraction`.
    """
    pool = pool or sandbox_pool(workers, sandbox)

    def grade(item: CodeItem) -> CodeGrade:
        return grade_code(item, limits=limits, pool=pool, stop_at_first_failure=stop_at_first_failure)

    return _in_order(grade, items, pool.callers)


def sandbox_pool(workers: int | None = None, sandbox: SandboxOptions = DEFAULT_OPTIONS) -> SandboxPool:
    """The process-wide pool for these settings. Fails closed: where the isolation is below
    `sandbox.min_isolation`, raises IsolationBelowMinimum naming the grader setting that lowers it."""
    try:
        return shared_pool(workers, sandbox)
    except IsolationBelowMinimum as error:
        why = f"grader.sandbox.isolation={error.level}" if error.asked else error.why
        message = (
            f"refusing to run untrusted code: the code sandbox gives {error.level!r} isolation here, "
            f"below grader.sandbox.min_isolation={error.minimum!r} ({why}); `srpo-curate doctor` shows what "
            f"{error.level!r} leaves open; to accept it, --set grader.sandbox.min_isolation={error.level}"
        )
        raise IsolationBelowMinimum(
            message, level=error.level, minimum=error.minimum, why=error.why, asked=error.asked
        ) from None


def _unverifiable(item: ReferenceItem) -> str | None:
    if item.solution is None or not item.solution.strip():
        return "no reference solution"
    if item.tests is None:
        return "no tests"
    try:
        tests = _parse(item.tests)
    except TestFormatError as error:
        return f"tests: {error}"
    return None if _has_cases(tests) else "no tests"


def _combine(grades: Sequence[CodeGrade]) -> CodeVerification:
    isolation = next((grade.isolation for grade in grades if grade.isolation), "")
    broken = next((grade for grade in grades if grade.status == "sandbox_error"), None)
    if broken is not None:
        reason = f"sandbox error: {broken.failure.reason if broken.failure else ''}"
        return CodeVerification(
            status="unverifiable",
            reason=reason,
            failure=broken.failure,
            grades=tuple(grades),
            isolation=isolation,
        )
    failing = [grade for grade in grades if grade.status != "passed"]
    if not failing:
        return CodeVerification(
            status="verified", reason="", failure=None, grades=tuple(grades), isolation=isolation
        )
    first = failing[0]
    status: VerifyStatus = "wrong" if len(failing) == len(grades) else "flaky"
    detail = first.failure.reason if first.failure else ""
    reason = f"{first.status}: {detail}"
    if status == "flaky":
        reason = f"passed {len(grades) - len(failing)} of {len(grades)} runs; {reason}"
    return CodeVerification(
        status=status,
        reason=reason,
        failure=first.failure,
        grades=tuple(grades),
        isolation=isolation,
    )


def verify_references(
    items: Sequence[ReferenceItem],
    *,
    runs: int = 2,
    workers: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    pool: SandboxPool | None = None,
    sandbox: SandboxOptions = DEFAULT_OPTIONS,
) -> list[CodeVerification]:
    """Run each reference solution `runs` times on its tests (all cases each time).

    verified: every run passed; wrong: no run passed; flaky: some did; unverifiable: no solution,
    no tests, unreadable tests, or the sandbox failed (the reason says which).
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    reasons = [_unverifiable(item) for item in items]
    runnable = [i for i, reason in enumerate(reasons) if reason is None]
    # All first runs, then all second runs: repeats of one item are apart in time, like reruns.
    batch = [
        CodeItem(response=items[i].solution or "", tests=items[i].tests or "", is_code=True)
        for _ in range(runs)
        for i in runnable
    ]
    grades = grade_code_batch(
        batch, workers=workers, limits=limits, pool=pool, sandbox=sandbox, stop_at_first_failure=False
    )
    results: list[CodeVerification] = []
    position = {index: slot for slot, index in enumerate(runnable)}
    for index, reason in enumerate(reasons):
        if reason is not None:
            skipped = CodeVerification(
                status="unverifiable", reason=reason, failure=None, grades=(), isolation=""
            )
            results.append(skipped)
            continue
        slot = position[index]
        results.append(_combine([grades[slot + run * len(runnable)] for run in range(runs)]))
    return results


def verify_reference(
    solution: str | None,
    tests: TestsValue | None,
    *,
    runs: int = 2,
    limits: Limits = DEFAULT_LIMITS,
    pool: SandboxPool | None = None,
) -> CodeVerification:
    """Verify one reference solution; see `verify_references`."""
    item = ReferenceItem(solution=solution, tests=tests)
    return verify_references([item], runs=runs, limits=limits, pool=pool)[0]
