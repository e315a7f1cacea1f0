"""One rollout batch: sample a group of responses per problem, then grade them.

Generation goes through the rollout engine interface (`RolloutEngine.generate`) a chunk of
problems at a time; each chunk's responses are handed to the Grader on a background thread
while the next chunk generates, so rewards (math workers, code sandboxes) overlap generation
and only the last chunk's grading is waited for.

Each chunk is sampled with its own seed, derived from the run's seed, the step, the rank and the
chunk, so a resumed run samples exactly what the uninterrupted run would have.

Covers: prompts, chunking, seeds, rewards (with the optional format reward). Does not cover:
the engines (`srpo.rollout`), grading rules (`srpo.verify.grading`) or advantages (`objective`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from srpo.rollout.prompts import build_prompt

if TYPE_CHECKING:
    from srpo.rollout import Completion, RolloutEngine, SamplingConfig
    from srpo.rollout.prompts import PromptTemplate
    from srpo.train.config import RewardConfig
    from srpo.train.resampling import ProblemText
    from srpo.verify.grading import Grade, Grader


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollout:
    """One sampled and graded response."""

    problem_id: str
    domain: str
    sample_idx: int
    prompt_ids: tuple[int, ...]
    response_ids: tuple[int, ...]
    text: str
    finish_reason: str
    reward: float
    status: str
    extracted: str | None
    engine_logprobs: tuple[float, ...] | None = None
    """The engine's log-prob of each response token under its sampling distribution
    (`Sample.logprobs`); None when the engine gives none."""

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@dataclass(slots=True)
class SamplingTimes:
    generate_s: float = 0.0
    """Time in engine.generate."""
    grade_s: float = 0.0
    """Time the grader spent (mostly overlapped with generation)."""
    grade_wait_s: float = 0.0
    """Time spent waiting for grades after generation finished (not overlapped)."""


@dataclass(slots=True)
class RolloutBatch:
    """This rank's rollouts of one step, group after group (`sampling.n` per problem)."""

    rollouts: list[Rollout] = field(default_factory=list)
    times: SamplingTimes = field(default_factory=SamplingTimes)


def chunk_seed(seed: int, step: int, rank: int, chunk: int) -> int:
    """A sampling seed per (seed, step, rank, chunk), stable across runs and restarts."""
    return (seed * 1_000_003 + step * 10_007 + rank * 101 + chunk) % (2**31 - 1)


def collect(
    engine: RolloutEngine,
    grader: Grader,
    problems: Sequence[ProblemText],
    *,
    sampling: SamplingConfig,
    prompt: PromptTemplate,
    reward: RewardConfig,
    sequences_per_call: int,
    seed: int,
    step: int,
    rank: int,
) -> RolloutBatch:
    """Sample `sampling.n` responses for every problem and grade them; `sequences_per_call`
    (engine.batch_size) bounds one generate call."""
    per_chunk = max(1, sequences_per_call // sampling.n)
    batch = RolloutBatch()
    pending: list[tuple[Sequence[ProblemText], Sequence[Completion], Future]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="srpo-grade") as grading:
        for index, start in enumerate(range(0, len(problems), per_chunk)):
            chunk = problems[start : start + per_chunk]
            completions = _generate(
                engine,
                chunk,
                prompt,
                replace(sampling, seed=chunk_seed(seed + (sampling.seed or 0), step, rank, index)),
                batch.times,
            )
            pending.append((chunk, completions, grading.submit(_grade, grader, chunk, completions, reward)))
        waited = time.perf_counter()
        graded = [(chunk, completions, future.result()) for chunk, completions, future in pending]
        batch.times.grade_wait_s = time.perf_counter() - waited
    for chunk, completions, (grades, seconds) in graded:
        batch.times.grade_s += seconds
        batch.rollouts.extend(_rollouts(chunk, completions, grades, reward))
    return batch


def _generate(
    engine: RolloutEngine,
    chunk: Sequence[ProblemText],
    prompt: PromptTemplate,
    sampling: SamplingConfig,
    times: SamplingTimes,
) -> list[Completion]:
    prompts = [
        build_prompt(
            question=problem.question,
            domain=problem.domain,
            tests=json.loads(problem.tests) if problem.tests else None,
            metadata=json.loads(problem.metadata) if problem.metadata else None,
            template=prompt,
        )
        for problem in chunk
    ]
    started = time.perf_counter()
    completions = engine.generate(prompts, sampling)
    times.generate_s += time.perf_counter() - started
    return completions


def _grade(
    grader: Grader, chunk: Sequence[ProblemText], completions: Sequence[Completion], reward: RewardConfig
) -> tuple[list[Grade], float]:
    from srpo.verify.grading import GradeItem

    started = time.perf_counter()
    items = [
        GradeItem(response=sample.text, answer=problem.answer, domain=problem.domain, tests=problem.tests)  # type: ignore[arg-type]
        for problem, completion in zip(chunk, completions, strict=True)
        for sample in completion.samples
    ]
    return grader.grade(items), time.perf_counter() - started


def _rollouts(
    chunk: Sequence[ProblemText],
    completions: Sequence[Completion],
    grades: Sequence[Grade],
    reward: RewardConfig,
) -> list[Rollout]:
    found: list[Rollout] = []
    graded = iter(grades)
    for problem, completion in zip(chunk, completions, strict=True):
        if completion.prompt_token_ids is None:
            raise TypeError("the trainer needs an engine that returns token ids (transformers or vllm)")
        for index, sample in enumerate(completion.samples):
            grade = next(graded)
            bonus = reward.format_reward if grade.extracted is not None else 0.0
            found.append(
                Rollout(
                    problem_id=problem.problem_id,
                    domain=problem.domain,
                    sample_idx=index,
                    prompt_ids=tuple(completion.prompt_token_ids),
                    response_ids=tuple(sample.token_ids or ()),
                    text=sample.text,
                    finish_reason=sample.finish_reason,
                    reward=grade.reward + bonus,
                    status=grade.status,
                    extracted=grade.extracted,
                    engine_logprobs=sample.logprobs,
                )
            )
    return found
