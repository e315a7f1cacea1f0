"""The reward API: grade model responses, math or code, in batches. `srpo-curate grade` and the
trainer call the same `Grader.grade`, so a reward in training is the grade a user can reproduce.

Math: the answer is extracted in the parent (`extract`), plain numbers and shapes are decided in
the parent (`equivalence`, no sympy), and only the pairs that need algebra go to worker
processes, each under a hard time limit (`pool`). Code items go to `srpo.verify.code`
(`grade_code_batch`, built on the sandbox).

Statuses: correct (reward 1.0), wrong, no_answer, timeout, error (reward 0.0). A code grader's
own status is kept in `detail` and its partial credit in `passed_fraction`; a code grade names the
sandbox's isolation level (`isolation`). Code runs only at `grader.sandbox.min_isolation` or
stronger: below it `grade` raises `IsolationBelowMinimum` (one line naming that setting) instead of
grading, and `code_sandbox()` lets a caller find that out before any other work.

Covers: dispatch by domain, the math path, turning failures into grades. Does not cover: the
comparison rules (see `equivalence`) or reading/writing files (see `grade_file`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from srpo.verify.config import GraderConfig
from srpo.verify.pool import Failure, WorkerPool

GradeStatus = Literal["correct", "wrong", "no_answer", "timeout", "error"]
GRADE_STATUSES: tuple[str, ...] = ("correct", "wrong", "no_answer", "timeout", "error")
_PROGRESS_STEP = 256  # cheap items between two progress updates
_CODE_STATUS = {
    "passed": "correct", "failed": "wrong", "no_code": "no_answer", "timeout": "timeout",
    "memory": "wrong", "runtime_error": "wrong", "sandbox_error": "error",
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeItem:
    """One response to grade: math needs the gold `answer`, code the problem's `tests`."""

    response: str
    answer: str | None = None
    domain: Literal["math", "code"] = "math"
    tests: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Grade:
    reward: float
    status: GradeStatus
    extracted: str | None
    detail: str
    passed_fraction: float | None = None  # code only: share of tests passed
    code_status: str | None = None
    """Code only: the sandbox's verdict (passed, failed, timeout, memory, runtime_error, no_code,
    sandbox_error); `status` maps it onto the math vocabulary for the trainer."""
    isolation: str | None = None
    """Code only: the isolation level the program ran under (bwrap, unshare, rlimits); empty
    when nothing ran (no code block)."""


def _grade(status: GradeStatus, extracted: str | None, detail: str) -> Grade:
    return Grade(
        reward=1.0 if status == "correct" else 0.0,
        status=status,
        extracted=extracted,
        detail=detail,
    )


@dataclass(slots=True)
class _MathJob:
    """A math item still waiting for the workers: its index and the pair to compare."""

    index: int
    extracted: str
    pair: tuple[str, str]


@dataclass(slots=True)
class Grader:
    """Grades batches with worker processes kept warm between batches.

    Use as a context manager (`with Grader(GraderConfig(workers=4)) as grader: ...`) so the
    workers are stopped at the end.
    """

    config: GraderConfig = field(default_factory=GraderConfig)
    chunk_size: int = 16
    """Math items sent to a worker at once: large for throughput (files, training batches),
    small for latency (the reward server, where a request waits for its chunk)."""
    _pool: WorkerPool | None = None
    _code_pool: Any = None  # srpo.sandbox.SandboxPool, imported only when code is graded

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _workers(self) -> WorkerPool:
        if self._pool is None:
            self.config.validate()
            self._pool = WorkerPool(self.config.pool_options(chunk_size=self.chunk_size))
        return self._pool

    def code_sandbox(self) -> Any:
        """The sandboxes code items run in (the process-wide pool for these settings, started
        on first use). Raises IsolationBelowMinimum, naming `grader.sandbox.min_isolation`,
        where the isolation is weaker than allowed: commands that will grade code call this
        before any other work."""
        if self._code_pool is None:
            from srpo.verify.code import sandbox_pool

            self.config.validate()
            self._code_pool = sandbox_pool(self.config.workers, self.config.sandbox.options())
        return self._code_pool

    def grade(
        self, items: Sequence[GradeItem], *, on_done: Callable[[int], None] | None = None
    ) -> list[Grade]:
        """One Grade per item, in order. Never raises for a bad item: it gets status error."""
        grades: list[Grade | None] = [None] * len(items)
        code_indices = [i for i, item in enumerate(items) if item.domain == "code"]
        jobs: list[_MathJob] = []
        pairs = self._cheap_pass(items, grades, jobs, on_done)
        first = next(pairs, None)  # workers start only when some item needs algebra
        if first is not None:
            from srpo.verify.math.tasks import compare_pair

            outcomes = self._workers().run(compare_pair, itertools.chain([first], pairs), on_done=on_done)
            for job, outcome in zip(jobs, outcomes, strict=True):
                grades[job.index] = _from_outcome(job, outcome)
        if code_indices:
            code_grades = self._code([items[i] for i in code_indices])
            for index, grade in zip(code_indices, code_grades, strict=True):
                grades[index] = grade
            if on_done:
                on_done(len(code_indices))
        return [g if g is not None else _grade("error", None, "not graded") for g in grades]

    @staticmethod
    def _cheap_pass(
        items: Sequence[GradeItem],
        grades: list[Grade | None],
        jobs: list[_MathJob],
        on_done: Callable[[int], None] | None,
    ) -> Iterator[tuple[str, str]]:
        """Grade math items in the parent where no algebra is needed; yield the others' pairs
        (lazily, so the workers compare while the parent goes on)."""
        cheap = 0
        for index, item in enumerate(items):
            if item.domain == "code":
                continue
            outcome = _math_in_parent(index, item)
            if isinstance(outcome, Grade):
                grades[index] = outcome
                cheap += 1
                if on_done and cheap % _PROGRESS_STEP == 0:
                    on_done(_PROGRESS_STEP)
            else:
                jobs.append(outcome)
                yield outcome.pair
        if on_done and cheap % _PROGRESS_STEP:
            on_done(cheap % _PROGRESS_STEP)

    def _code(self, items: list[GradeItem]) -> list[Grade]:
        from srpo.verify import code

        pool = self.code_sandbox()  # outside the `try`: a refused sandbox stops grading
        try:
            results = code.grade_code_batch(
                [code.CodeItem(response=item.response, tests=item.tests) for item in items],
                limits=self.config.code_limits(),
                pool=pool,
            )
        except Exception as error:  # the code grader failing must not lose the math grades
            detail = f"code grader failed: {type(error).__name__}: {error}"[:300]
            return [_grade("error", None, detail) for _ in items]
        return [_from_code_grade(result) for result in results]


def _from_outcome(job: _MathJob, outcome: Any) -> Grade:
    if isinstance(outcome, Failure):
        status: GradeStatus = "timeout" if outcome.kind == "timeout" else "error"
        return _grade(status, job.extracted, outcome.detail)
    status, reason = outcome
    return _grade(status, job.extracted, reason)


def _from_code_grade(result: Any) -> Grade:
    status = _CODE_STATUS.get(result.status, "error")
    failure = getattr(result, "failure", None)
    return Grade(
        reward=float(result.reward),
        status=status,  # type: ignore[arg-type]
        extracted=result.extracted,
        detail=f"code: {result.status}" + (f" ({failure.reason})" if failure else ""),
        passed_fraction=result.passed_fraction,
        code_status=result.status,
        isolation=result.isolation,
    )


def _math_in_parent(index: int, item: GradeItem) -> Grade | _MathJob:
    """Extraction and the cheap comparison; a _MathJob when algebra is needed."""
    from srpo.verify.math.equivalence import GoldError, NeedsAlgebra, compare
    from srpo.verify.math.extract import extract_answer

    try:
        extraction = extract_answer(item.response or "")
        if extraction.text is None:
            if extraction.source == "none":
                return _grade("no_answer", None, "no \\boxed{} answer and no final-answer phrase")
            return _grade("wrong", None, extraction.problem or "no usable answer")
        if item.answer is None or not str(item.answer).strip():
            return _grade("error", extraction.text, "no gold answer to compare with")
        try:
            verdict = compare(str(item.answer), extraction.text, algebra=False)
        except NeedsAlgebra:
            return _MathJob(index, extraction.text, (str(item.answer), extraction.text))
        except GoldError as error:
            return _grade("error", extraction.text, str(error))
        return _grade("correct" if verdict.equal else "wrong", extraction.text, verdict.reason)
    except Exception as error:  # a bug on one item must not lose the batch
        return _grade("error", None, f"internal error: {type(error).__name__}: {error}"[:300])


def grade_batch(
    items: Sequence[GradeItem],
    *,
    workers: int = 2,
    timeout_s: float = 5.0,
    on_done: Callable[[int], None] | None = None,
) -> list[Grade]:
    """Grade a batch with a pool started for it; for many batches keep a `Grader` open instead."""
    with Grader(GraderConfig(workers=workers, timeout_s=timeout_s)) as grader:
        return grader.grade(items, on_done=on_done)


def grade(item: GradeItem, *, timeout_s: float = 5.0) -> Grade:
    """Grade one response (starts a worker; batch when grading more than a handful)."""
    return grade_batch([item], workers=1, timeout_s=timeout_s)[0]
