"""`srpo-curate verify`: check the gold answers of catalog problems and store the verdicts.

Problems are read a batch at a time through a short read connection, checked in worker
processes (`golds.check_gold`, each under a hard time limit), and the batch's verdicts written
in one short write transaction, so queries can run between batches and a killed run loses at
most one batch. Without `recheck` only `pending` problems are selected, so a re-run finishes
what an interrupted one left.

Math problems: the gold must parse and agree with the reference solution's boxed answer.
Code problems: the reference solution runs twice against all its tests in the sandbox
(`srpo.verify.code.verify_references`): verified, wrong (with the first failing case), flaky
(the two runs disagree) or unverifiable (no solution, no tests).

Covers: batching, the report. Does not cover: the checks (`golds`) or the SQL
(`srpo.catalog.verification`).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from srpo.catalog.connection import Catalog
from srpo.catalog.verification import (
    Key,
    ProblemToVerify,
    VerificationResult,
    VerifySelection,
    count_selected,
    select_batch,
    write_results,
)
from srpo.verify.config import GraderConfig
from srpo.verify.math.golds import GoldCheck, GoldTask
from srpo.verify.pool import Failure, WorkerPool

MAX_EXAMPLES = 3


@dataclass(frozen=True, kw_only=True)
class VerifyConfig:
    selection: VerifySelection = field(default_factory=VerifySelection)
    grader: GraderConfig = field(default_factory=lambda: GraderConfig(timeout_s=10.0))
    """Workers and time limits: a math gold check past `timeout_s` is `unverifiable`
    (gold.timeout); code reference solutions run under the grader's sandbox limits."""
    batch_size: int = 500
    """Problems per read and per write transaction."""


@dataclass(frozen=True, slots=True)
class Example:
    source: str
    source_index: str
    answer: str | None
    reason: str


@dataclass(slots=True)
class VerifyReport:
    selected: int = 0
    checked: int = 0
    by_source: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_reason: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[Example]] = field(default_factory=lambda: defaultdict(list))
    elapsed_s: float = 0.0

    def add(self, problem: ProblemToVerify, check: GoldCheck) -> None:
        self.checked += 1
        self.by_source[problem.key[0]][check.status] += 1
        group = (check.status, check.code)
        self.by_reason[group] += 1
        if check.status != "verified" and len(self.examples[group]) < MAX_EXAMPLES:
            self.examples[group].append(Example(problem.key[0], problem.key[2], problem.answer, check.reason))

    def to_dict(self) -> dict:
        return {
            "selected": self.selected,
            "checked": self.checked,
            "by_source": {source: dict(counts) for source, counts in self.by_source.items()},
            "by_reason": [
                {"status": status, "reason": code, "problems": n}
                for (status, code), n in self.by_reason.most_common()
            ],
            "examples": [
                {"status": status, "reason_code": code, **asdict(example)}
                for (status, code), examples in self.examples.items()
                for example in examples
            ],
            "elapsed_s": round(self.elapsed_s, 2),
        }


def _as_check(outcome: object, timeout_s: float) -> GoldCheck:
    if isinstance(outcome, GoldCheck):
        return outcome
    if isinstance(outcome, Failure) and outcome.kind == "timeout":
        return GoldCheck("unverifiable", f"gold.timeout: no verdict within {timeout_s:g}s")
    detail = outcome.detail if isinstance(outcome, Failure) else repr(outcome)
    return GoldCheck("unverifiable", f"gold.error: {detail}")


def _code_checks(
    problems: list[ProblemToVerify], *, grader: GraderConfig, on_progress: Callable[[int], None] | None
) -> list[GoldCheck]:
    """Run each code problem's reference solution on its tests; one check per problem."""
    if not problems:
        return []
    from srpo.verify.code import ReferenceItem, verify_references

    results = verify_references(
        [ReferenceItem(solution=p.solution, tests=p.tests) for p in problems],
        runs=2,
        workers=grader.workers,
        limits=grader.code_limits(),
        sandbox=grader.sandbox.options(),
    )
    if on_progress:
        on_progress(len(problems))
    return [GoldCheck(r.status, _code_reason(r)) for r in results]


def _code_reason(result) -> str:
    if result.status == "verified":
        return f"code.passed: every case, twice ({result.isolation})"
    failure = result.failure
    where = f"case {failure.case}: " if failure is not None and failure.case is not None else ""
    detail = failure.reason if failure is not None else result.reason
    ran = f" ({result.isolation})" if result.isolation else ""
    return f"code.{result.status}: {where}{detail}"[: 500 - len(ran)] + ran


def verify_catalog(
    catalog: Catalog,
    options: VerifyConfig,
    *,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    from srpo.verify.math.tasks import check_gold_task

    started = time.monotonic()
    report = VerifyReport()
    with catalog.reader() as con:
        report.selected = count_selected(con, options.selection)
    if on_start:
        on_start(report.selected)
    options.grader.validate()
    pool_options = options.grader.pool_options(chunk_size=8)
    after: Key | None = None
    remaining = report.selected
    with WorkerPool(pool_options) as pool:
        while remaining > 0:
            with catalog.reader() as con:
                batch = select_batch(
                    con, options.selection, after=after, size=min(options.batch_size, remaining)
                )
            if not batch:
                break
            after, remaining = batch[-1].key, remaining - len(batch)
            math = [p for p in batch if p.domain == "math"]
            code = [p for p in batch if p.domain == "code"]
            tasks = [GoldTask(question=p.question, answer=p.answer, solution=p.solution) for p in math]
            outcomes = pool.run(check_gold_task, tasks, on_done=on_progress)
            checks = [_as_check(outcome, options.grader.timeout_s) for outcome in outcomes]
            checks += _code_checks(code, grader=options.grader, on_progress=on_progress)
            checked = [*math, *code]
            with catalog.writer() as con:
                write_results(
                    con,
                    [
                        VerificationResult(p.key, c.status, c.reason)
                        for p, c in zip(checked, checks, strict=True)
                    ],
                )
            for problem, check in zip(checked, checks, strict=True):
                report.add(problem, check)
    report.elapsed_s = time.monotonic() - started
    return report
