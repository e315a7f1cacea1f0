"""The cleaning pipeline: named stages that keep a problem or reject it with a dotted reason.

A stage sees only problems still kept, in batches, and may reject them (`Problem.reject`) or
change their text (recording what it changed in `metadata`). The pipeline counts, per stage,
how many problems it saw, kept and rejected per reason; the counts are printed after an ingest
and stored with it. `build_pipeline` gives the stages every ingest runs: required fields, the
math and code rules (on the raw text, so image links and URLs are still visible), then the
normaliser. Deduplication and decontamination run afterwards against the whole catalog
(`dedup`, `decontam`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from srpo.catalog.records import Problem
from srpo.catalog.testspec import AssertTests, case_count

if TYPE_CHECKING:
    from srpo.curate.config import CleaningConfig, FilterConfig


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


@dataclass(slots=True)
class Filters:
    """Rejects problems with the first math or code rule that fires; notes the others too."""

    config: FilterConfig
    name: str = "filters"

    def apply(self, problems: Sequence[Problem]) -> None:
        from srpo.curate.rules import reasons_for

        for problem in problems:
            reasons = reasons_for(problem, self.config)
            if reasons:
                problem.reject(reasons[0])
                if len(reasons) > 1:
                    problem.metadata["also_rejected_by"] = reasons[1:]


def build_pipeline(config: CleaningConfig | None = None) -> Pipeline:
    from srpo.curate.config import CleaningConfig
    from srpo.curate.normalise import Normalise

    config = config or CleaningConfig()
    return Pipeline([RequiredFields(), Filters(config.filters), Normalise()])
