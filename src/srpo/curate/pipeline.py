"""The cleaning pipeline: named stages that keep a problem or reject it with a dotted reason.

A stage sees only problems still kept, in batches, and may reject them (`Problem.reject`) or
change their text (recording what it changed in `metadata`). The pipeline counts, per stage,
how many problems it saw, kept and rejected per reason; the counts are printed after an ingest
and stored with it. This module holds the framework and the required-fields stage; the text
normalisers and the math/code filters are further stages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from srpo.catalog.records import Problem
from srpo.catalog.testspec import AssertTests, case_count


class Stage(Protocol):
    name: str

    def apply(self, problems: Sequence[Problem]) -> None:
        """Reject or rewrite problems in place; only kept problems are passed in."""


@dataclass(slots=True)
class StageCounts:
    seen: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"seen": self.seen, "kept": self.kept, "rejected": dict(self.rejected)}


class Pipeline:
    """Runs stages in order over a batch, then refreshes each problem's id from its final text."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)
        self.counts: dict[str, StageCounts] = {stage.name: StageCounts() for stage in self.stages}

    def run(self, problems: Sequence[Problem]) -> None:
        for stage in self.stages:
            live = [p for p in problems if p.clean_status == "kept"]
            stage.apply(live)
            counts = self.counts[stage.name]
            counts.seen += len(live)
            for problem in live:
                if problem.clean_status == "kept":
                    counts.kept += 1
                else:
                    counts.rejected[problem.reject_reason or "unknown"] += 1
        for problem in problems:
            problem.refresh_id()

    def counts_dict(self) -> dict[str, dict[str, Any]]:
        return {name: counts.to_dict() for name, counts in self.counts.items()}


@dataclass(frozen=True, slots=True)
class RequiredFields:
    """A question, and for math a gold answer, for code tests with at least one case."""

    name: str = "required_fields"

    def apply(self, problems: Sequence[Problem]) -> None:
        for problem in problems:
            reason = self.missing(problem)
            if reason:
                problem.reject(reason)

    @staticmethod
    def missing(problem: Problem) -> str | None:
        if not problem.question.strip():
            return f"{problem.domain}.missing_question"
        if problem.domain == "math" and not (problem.answer or "").strip():
            return "math.missing_answer"
        if problem.domain == "code":
            if problem.tests is None:
                return "code.no_tests"
            if not isinstance(problem.tests, AssertTests) and case_count(problem.tests) == 0:
                return "code.no_tests"
            if isinstance(problem.tests, AssertTests) and not problem.tests.code.strip():
                return "code.no_tests"
        return None


def default_pipeline() -> Pipeline:
    return Pipeline([RequiredFields()])
