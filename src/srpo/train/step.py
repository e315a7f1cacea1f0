"""One training step: sample and grade this rank's problems, record every rollout, update.

1. each rank samples a group per problem of its share and grades it (`rollouts`); with dynamic
   sampling, groups with no right or no wrong answer are set aside and more problems sampled
   (`dynamic`);
2. rank 0 gathers every rank's rollouts and writes them to `rollouts` in one transaction, each
   flagged trained or not;
3. group advantages and the overlong rule (`objective`), then the optimiser steps (`update`)
   on the groups trained on;
4. the new weights go to the rollout engine when it holds its own copy (vLLM);
5. the step's metrics: rewards, accuracy and lengths over all ranks, loss and sampling
   statistics, timings, and on GPUs the peak memory of generation and of the update
   (`memory/generate_gib`, `memory/update_gib`: torch's peak allocated bytes on this rank).

Covers: the order of one step and its metrics. Does not cover: the epoch loop (`trainer`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.train import distributed
from srpo.train.dynamic import Drawn, MoreFn, SampleFn, draw_all, draw_dynamic
from srpo.train.metrics import Scored, rollout_metrics

if TYPE_CHECKING:
    from srpo.catalog.rollouts import RolloutRow
    from srpo.train.catalog_record import CatalogRecord
    from srpo.train.checkpoint import TrainerState
    from srpo.train.config import TrainConfig
    from srpo.train.policy import Policy, RolloutSide
    from srpo.train.resampling import ProblemText
    from srpo.train.rollouts import Rollout
    from srpo.verify.grading import Grader


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step works with (the same for every step of a run)."""

    config: TrainConfig
    policy: Policy
    rollouts: RolloutSide
    grader: Grader
    record: CatalogRecord | None
    """Rank 0's catalog handle (None on other ranks)."""


def run_step(
    context: StepContext, state: TrainerState, problems: list[ProblemText], *, more: MoreFn | None = None
) -> dict[str, Any]:
    """Train on one batch of problems (all ranks' problems; each rank takes its share);
    `more(count)` gives the epoch's next problems to dynamic sampling."""
    config = context.config
    started = time.perf_counter()
    memory: dict[str, float] = {}
    with _peak_memory(memory, "memory/generate_gib"), context.rollouts.generating():
        drawn = _draw(context, state, problems, more)
    context.rollouts.after_generation()
    sampled = time.perf_counter()
    scored = _record(context, state, drawn)
    written = time.perf_counter()
    with _peak_memory(memory, "memory/update_gib"):
        stats = _update(context, state, drawn)
    trained = time.perf_counter()
    context.rollouts.sync()
    synced = time.perf_counter()
    state.generated += drawn.generated
    metrics: dict[str, Any] = {"step": state.step, "epoch": state.epoch, "stage": state.stage}
    metrics |= rollout_metrics(scored, config.sampling.n) if scored else {}
    # Every rank's stage switch reads them (rank 0 holds the gathered rollouts).
    metrics["reward/mean"], metrics["accuracy/mean"] = distributed.broadcast(
        (metrics.get("reward/mean", 0.0), metrics.get("accuracy/mean") or 0.0)
    )
    metrics |= drawn.counts(generated_total=state.generated, trained_total=state.samples)
    metrics |= stats | memory
    step_s = max(synced - started, 1e-9)
    metrics["samples"] = len(scored)
    metrics["tokens"] = sum(item.tokens for item in scored)
    metrics["samples_per_s"] = metrics["samples"] / step_s
    metrics["tokens_per_s"] = metrics["tokens"] / step_s
    return metrics | {
        "time/generate_s": drawn.times.generate_s,
        "time/reward_s": drawn.times.grade_s,
        "time/reward_wait_s": drawn.times.grade_wait_s,
        "time/write_s": written - sampled,
        "time/train_s": trained - written,
        "time/sync_s": synced - trained,
        "time/step_s": step_s,
    }


def _draw(
    context: StepContext, state: TrainerState, problems: list[ProblemText], more: MoreFn | None
) -> Drawn:
    config = context.config
    sample = _sampler(context, state)
    if config.data.mode != "dynamic":
        return draw_all(sample, problems)
    budget = config.budget.max_rollouts
    return draw_dynamic(
        sample,
        problems,
        more=more or (lambda count: []),
        wanted=config.data.prompts_per_step,
        group_size=config.sampling.n,
        max_rounds=config.data.dynamic_max_rounds,
        budget_left=None if budget is None else budget - state.generated,
    )


def _sampler(context: StepContext, state: TrainerState) -> SampleFn:
    """Sample and grade this rank's problems; round r > 0 of a dynamic step gets other seeds."""
    from srpo.train.rollouts import collect

    config = context.config

    def sample(mine: Any, round_index: int) -> Any:
        return collect(
            context.rollouts.engine,
            context.grader,
            mine,
            sampling=config.sampling,
            prompt=config.prompt,
            reward=config.reward,
            sequences_per_call=config.engine.batch_size,
            seed=config.seed + round_index * _ROUND_SEED_STRIDE,
            step=state.step,
            rank=distributed.rank(),
        )

    return sample


# Dynamic sampling's later rounds of a step: a seed offset no earlier round or step uses.
_ROUND_SEED_STRIDE = 7_919


@contextlib.contextmanager
def _peak_memory(found: dict[str, float], key: str) -> Iterator[None]:
    """On a GPU, the peak memory allocated by torch inside the block, in GiB, as found[key]."""
    import torch

    if not torch.cuda.is_available():
        yield
        return
    torch.cuda.reset_peak_memory_stats()
    yield
    found[key] = torch.cuda.max_memory_allocated() / 2**30


def rollout_rows(
    rollouts: list[Rollout], state: TrainerState, *, keep_text: bool, trained: list[bool] | None = None
) -> list[RolloutRow]:
    from srpo.catalog.rollouts import RolloutRow

    flags = trained if trained is not None else [True] * len(rollouts)
    return [
        RolloutRow(
            run_id=state.run_id,
            problem_id=r.problem_id,
            sample_idx=r.sample_idx,
            reward=r.reward,
            status=r.status,
            response_tokens=len(r.response_ids),
            finish_reason=r.finish_reason,
            response=r.text if keep_text else None,
            extracted=r.extracted if keep_text else None,
            epoch=state.epoch,
            stage=state.stage,
            step=state.step,
            trained=keep,
        )
        for r, keep in zip(rollouts, flags, strict=True)
    ]


def _record(context: StepContext, state: TrainerState, drawn: Drawn) -> list[Scored]:
    """Gather every rank's rollouts on rank 0 and write them; returns them all (rank 0)."""
    keep_text = context.config.logging.store_responses
    rows = rollout_rows(drawn.rollouts, state, keep_text=keep_text, trained=drawn.trained)
    gathered = distributed.gather((rows, [Scored.of(r) for r in drawn.rollouts]))
    if gathered is None:
        return []
    if context.record is not None:
        all_rows = [row for part, _ in gathered for row in part]
        context.record.write_step(all_rows, stage=state.stage, epoch=state.epoch, step=state.step)
    return [item for _, part in gathered for item in part]


def _update(context: StepContext, state: TrainerState, drawn: Drawn) -> dict[str, Any]:
    import torch

    from srpo.train.objective import group_advantages, overlong_adjusted
    from srpo.train.update import policy_update

    config = context.config
    if drawn.trained_total == 0:  # dynamic sampling kept no group on any rank: nothing to learn
        engine = context.policy.engine
        return {
            "loss": 0.0,
            "grad_norm": 0.0,
            "optimiser_steps": 0,
            "learning_rate": float(engine.get_lr()[0]),
        }
    rollouts = drawn.kept
    rewards = torch.tensor([r.reward for r in rollouts], dtype=torch.float32)
    advantages = group_advantages(rewards, config.sampling.n, scale_by_std=config.objective.scale_by_std)
    truncated = [r.truncated for r in rollouts]
    advantages, weights = overlong_adjusted(advantages, truncated, config.objective.overlong)
    samples, tokens = distributed.all_sum([len(rollouts), sum(len(r.response_ids) for r in rollouts)])
    state.samples += int(samples)
    state.tokens += int(tokens)
    policy = context.policy
    stats = policy_update(policy.engine, rollouts, advantages, weights, config, step=state.step,
                          pad_id=policy.pad_id, reference=policy.reference)  # fmt: skip
    return stats.as_metrics()
