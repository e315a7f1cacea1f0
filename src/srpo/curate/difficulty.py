"""`srpo-curate difficulty`: rate problems easy, medium or hard by a model's pass rate.

For each selected problem the rollout engine samples `k` responses, the Grader (the reward path
of `srpo-curate grade` and of the trainer) grades them, and one short write transaction per
batch stores every sample in `rollouts` and the problems' `pass_rate`, `pass_at_k` and
`difficulty`. The run is a `runs` row of kind `difficulty` holding the settings; running again
with its `--run-id` skips the problems it already sampled, so a killed run resumes where it
stopped and nothing is sampled twice.

A problem whose samples the grader could not judge (status `error`: code before the sandbox
grader is installed, a missing gold answer) keeps its rollouts but gets no difficulty: an
all-zero pass rate there would say "hard" when it means "unknown".

Covers: orchestration, resume checks, the report. Does not cover: the engines
(`srpo.rollout`), grading (`srpo.verify.grading`), the numbers (`passk`) or the SQL
(`srpo.catalog.ratings`, `srpo.catalog.runs`, `srpo.catalog.rollouts`).
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srpo.catalog import ratings, rollouts, runs
from srpo.catalog.connection import Catalog
from srpo.catalog.records import utcnow
from srpo.config import to_dict
from srpo.curate.passk import DifficultyThresholds, rate
from srpo.errors import InputError
from srpo.rollout.config import EngineConfig
from srpo.rollout.prompts import PromptTemplate, build_prompt
from srpo.rollout.sampling import SamplingConfig
from srpo.verify.config import GraderConfig

if TYPE_CHECKING:
    from srpo.rollout import Completion, RolloutEngine
    from srpo.verify.grading import Grade, Grader

RUN_KIND = runs.DIFFICULTY_KIND
# Settings that decide what the samples mean; a resumed run must use the same ones.
_IDENTITY_KEYS = ("engine.backend", "engine.model", "sampling", "prompt", "thresholds")


def _default_sampling() -> SamplingConfig:
    return SamplingConfig(n=8)


@dataclass(frozen=True, kw_only=True)
class DifficultyConfig:
    """One difficulty run's settings: the engine and how it samples, how samples are graded,
    which problems, how pass rates become easy / medium / hard. Loaded from `--config FILE` and
    `--set key=value`; the command's flags (`--model`, `--k`, `--backend`, `--where`) set the
    fields they name."""

    engine: EngineConfig = field(default_factory=EngineConfig)
    """The rollout backend and its model (the same section as srpo-train's)."""
    sampling: SamplingConfig = field(default_factory=_default_sampling)
    """How responses are sampled; `n` (`--k`) is the number of samples per problem."""
    prompt: PromptTemplate = field(default_factory=PromptTemplate)
    """How a problem is asked (chat or plain template, answer-format instructions)."""
    grader: GraderConfig = field(default_factory=GraderConfig)
    """Workers and time limits of grading, the code sandbox's limits."""
    thresholds: DifficultyThresholds = field(default_factory=DifficultyThresholds)
    """Pass-rate boundaries of easy / medium / hard."""
    selection: ratings.RateSelection = field(default_factory=ratings.RateSelection)
    """Which problems (default: kept, verified, not rated yet)."""
    batch_size: int = 32
    """Problems per generate call and per write transaction."""
    keep_text: bool = True
    """Store each response's text and extracted answer in `rollouts` (else counts only)."""

    @property
    def k(self) -> int:
        return self.sampling.n

    def validate(self) -> None:
        if self.batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {self.batch_size}")
        self.engine.validate()
        self.engine.refuse_foreign_settings()
        self.sampling.validate()
        self.thresholds.validate()
        self.prompt.validate()
        self.selection.validate()
        self.grader.validate()

    def settings(self) -> dict[str, Any]:
        """The run's config as stored in `runs.config` (no secrets), with the backend, model and k
        on top for queries (`config->>'k'`)."""
        summary = {"backend": self.engine.backend, "model": self.engine.model, "k": self.k}
        return {**summary, **to_dict(self), "engine": self.engine.stored()}


@dataclass(slots=True)
class DifficultyReport:
    """What one invocation did (a resumed run reports its own part)."""

    run_id: str
    resumed: bool = False
    selected: int = 0
    problems: int = 0
    unrated: int = 0
    samples: int = 0
    correct: int = 0
    response_tokens: int = 0
    difficulties: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    finish_reasons: Counter[str] = field(default_factory=Counter)
    generate_s: float = 0.0
    grade_s: float = 0.0
    write_s: float = 0.0
    elapsed_s: float = 0.0

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        # Not asdict(): it rebuilds a Counter from (key, value) pairs and so counts the pairs.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("difficulties", "statuses", "finish_reasons"):
            data[name] = dict(data[name])
        data["samples_per_s"] = self.samples_per_s
        return data


ProgressFn = Callable[[int], None]


def new_run_id() -> str:
    return f"difficulty-{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def run_difficulty(
    catalog: Catalog,
    options: DifficultyConfig,
    *,
    run_id: str | None = None,
    limit: int | None = None,
    engine: RolloutEngine | None = None,
    on_start: ProgressFn | None = None,
    on_progress: ProgressFn | None = None,
) -> DifficultyReport:
    """Sample, grade, store and rate. `run_id` continues that run (skipping the problems it
    sampled) or names a new one; `limit` rates at most that many problems in this call; `engine`
    reuses an open engine (it is not closed)."""
    options.validate()
    if limit is not None and limit < 0:
        raise InputError("--limit must not be negative")
    started = time.monotonic()
    run_id, resumed = _begin(catalog, options, run_id)
    report = DifficultyReport(run_id=run_id, resumed=resumed)
    with catalog.reader() as con:
        report.selected = ratings.count_to_rate(con, options.selection, run_id=run_id)
    if limit is not None:
        report.selected = min(report.selected, limit)
    if on_start:
        on_start(report.selected * options.k)
    try:
        if report.selected:
            _sample_all(catalog, options, report, engine, on_progress)
    except BaseException as error:
        _close(catalog, run_id, "interrupted" if isinstance(error, KeyboardInterrupt) else "failed", report)
        raise
    report.elapsed_s = time.monotonic() - started
    _close(catalog, run_id, "completed", report)
    return report


def _begin(catalog: Catalog, options: DifficultyConfig, run_id: str | None) -> tuple[str, bool]:
    settings = options.settings()
    run_id = run_id or new_run_id()
    with catalog.writer() as con:
        existing = runs.get_run(con, run_id)
        if existing is None:
            runs.start_run(con, run_id, kind=RUN_KIND, model=options.engine.model, config=settings)
            return run_id, False
        _check_resumable(existing, settings)
        runs.mark_run(con, run_id, status="running")
    return run_id, True


def _check_resumable(run: runs.RunRecord, settings: dict[str, Any]) -> None:
    if run.kind != RUN_KIND:
        raise InputError(f"--run-id {run.run_id}: that run is a {run.kind} run, not a difficulty run")
    for key in _IDENTITY_KEYS:
        before, now = _lookup(run.config, key), _lookup(json.loads(json.dumps(settings)), key)
        if before != now:
            raise InputError(
                f"--run-id {run.run_id}: the run was started with {key} = {json.dumps(before)}, "
                f"not {json.dumps(now)}; resume with the same settings or start a new run"
            )


def _lookup(settings: dict[str, Any], dotted: str) -> Any:
    value: Any = settings
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _sample_all(
    catalog: Catalog,
    options: DifficultyConfig,
    report: DifficultyReport,
    engine: RolloutEngine | None,
    on_progress: ProgressFn | None,
) -> None:
    from srpo.rollout import create_engine
    from srpo.verify.grading import Grader

    owned = engine is None
    engine = engine or create_engine(options.engine)
    try:
        with Grader(options.grader) as grader:
            after: str | None = None
            while report.problems + report.unrated < report.selected:
                size = min(options.batch_size, report.selected - report.problems - report.unrated)
                with catalog.reader() as con:
                    batch = ratings.select_to_rate(
                        con, options.selection, run_id=report.run_id, after=after, size=size
                    )
                if not batch:
                    break
                after = batch[-1].problem_id
                _rate_batch(catalog, options, report, engine, grader, batch)
                if on_progress:
                    on_progress(len(batch) * options.k)
    finally:
        if owned:
            engine.close()


def _rate_batch(
    catalog: Catalog,
    options: DifficultyConfig,
    report: DifficultyReport,
    engine: RolloutEngine,
    grader: Grader,
    batch: Sequence[ratings.ProblemToRate],
) -> None:
    from srpo.verify.grading import GradeItem

    clock = time.monotonic()
    completions = engine.generate([_prompt(problem, options.prompt) for problem in batch], options.sampling)
    report.generate_s += time.monotonic() - clock
    clock = time.monotonic()
    items = [
        GradeItem(response=sample.text, answer=problem.answer, domain=problem.domain, tests=problem.tests)
        for problem, completion in zip(batch, completions, strict=True)
        for sample in completion.samples
    ]
    grades = grader.grade(items)
    report.grade_s += time.monotonic() - clock
    clock = time.monotonic()
    rows, rated = _assemble(report, options, batch, completions, grades)
    with catalog.writer() as con:
        rollouts.insert_rollouts(con, rows)
        ratings.write_ratings(con, rated)
    report.write_s += time.monotonic() - clock


def _prompt(problem: ratings.ProblemToRate, template: PromptTemplate):
    return build_prompt(
        question=problem.question,
        domain=problem.domain,
        tests=json.loads(problem.tests) if problem.tests else None,
        metadata=json.loads(problem.metadata) if problem.metadata else None,
        template=template,
    )


def _assemble(
    report: DifficultyReport,
    options: DifficultyConfig,
    batch: Sequence[ratings.ProblemToRate],
    completions: Sequence[Completion],
    grades: Sequence[Grade],
) -> tuple[list[rollouts.RolloutRow], list[ratings.StoredRating]]:
    """Rollout rows for every sample, ratings for the problems the grader could judge."""
    rows: list[rollouts.RolloutRow] = []
    rated: list[ratings.StoredRating] = []
    position = 0
    for problem, completion in zip(batch, completions, strict=True):
        own_grades = grades[position : position + len(completion.samples)]
        position += len(completion.samples)
        for index, (sample, grade) in enumerate(zip(completion.samples, own_grades, strict=True)):
            rows.append(
                rollouts.RolloutRow(
                    run_id=report.run_id,
                    problem_id=problem.problem_id,
                    sample_idx=index,
                    reward=grade.reward,
                    status=grade.status,
                    response_tokens=sample.token_count,
                    finish_reason=sample.finish_reason,
                    response=sample.text if options.keep_text else None,
                    extracted=grade.extracted if options.keep_text else None,
                )
            )
            report.statuses[grade.status] += 1
            report.finish_reasons[sample.finish_reason] += 1
            report.response_tokens += sample.token_count
        report.samples += len(own_grades)
        correct = [grade.status == "correct" for grade in own_grades]
        report.correct += sum(correct)
        if any(grade.status == "error" for grade in own_grades):
            report.unrated += 1
            continue
        rating = rate(problem.problem_id, correct, options.thresholds)
        rated.append(
            ratings.StoredRating(problem.problem_id, rating.pass_rate, rating.pass_at_k, rating.difficulty)
        )
        report.problems += 1
        report.difficulties[rating.difficulty] += 1
    return rows, rated


def _close(catalog: Catalog, run_id: str, status: str, report: DifficultyReport) -> None:
    """Record the run's status and totals over all its invocations."""
    try:
        with catalog.writer() as con:
            problems, samples, correct = con.execute(
                "SELECT count(DISTINCT problem_id), count(*), count(*) FILTER (status = 'correct') "
                "FROM rollouts WHERE run_id = ?",
                [run_id],
            ).fetchall()[0]
            notes = {
                "problems_sampled": problems, "samples": samples, "correct": correct,
                "last_invocation": report.to_dict(),
            }  # fmt: skip
            runs.mark_run(con, run_id, status=status, notes=notes)
    except Exception:
        if status == "completed":
            raise
        # Failing to record a failure must not hide the failure itself.
