"""The policy update: one rollout batch becomes `updates_per_batch x mini_batches` optimiser steps.

For every pass over the batch, the samples are split into mini-batches (shuffled with a seed
when there is more than one optimiser step); each mini-batch is one optimiser step, computed in
micro-batches whose gradients DeepSpeed accumulates. The loss of each micro-batch is already
divided by the normaliser of its whole mini-batch over all ranks (`objective.normaliser`), and
DeepSpeed is told not to rescale it, so accumulation gives exactly the full mini-batch loss.

The log-probs of the sampling policy ("old") are computed before the first step only when the
batch is used for more than one step; with a single step the policy is the sampling policy, and
the detached log-probs of the same forward pass are used (ratio 1, one forward pass saved).
Every rank runs the same number of forward passes (ZeRO-3 gathers parameters in each), padding
with zero-weight micro-batches where its share is smaller.

Covers: the optimisation loop and its statistics. Does not cover: the loss formulas
(`objective`), packing (`tokens`) or the engine (`distributed`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.train import distributed
from srpo.train.objective import micro_batch_loss, normaliser
from srpo.train.tokens import pack, token_logprobs

if TYPE_CHECKING:
    import torch

    from srpo.train.config import TrainConfig
    from srpo.train.rollouts import Rollout


@dataclass(frozen=True, slots=True)
class UpdateStats:
    loss: float
    """Mean over optimiser steps of the mini-batch loss (all ranks)."""
    clip_fraction: float
    clip_low_fraction: float
    clip_high_fraction: float
    kl: float
    """Mean k3 KL to the reference per loss token (0 without one)."""
    entropy: float
    """Mean entropy of the policy's next-token distribution over response tokens (first pass)."""
    grad_norm: float
    """Gradient norm before clipping, of the last optimiser step."""
    learning_rate: float
    optimiser_steps: int

    def as_metrics(self) -> dict[str, float]:
        return {"loss": self.loss, "clip_fraction": self.clip_fraction,
                "clip_low_fraction": self.clip_low_fraction, "clip_high_fraction": self.clip_high_fraction,
                "kl": self.kl, "entropy": self.entropy, "grad_norm": self.grad_norm,
                "learning_rate": self.learning_rate, "optimiser_steps": self.optimiser_steps}  # fmt: skip


@dataclass(slots=True)
class _Totals:
    loss: float = 0.0
    tokens: float = 0.0
    clip_low: float = 0.0
    clip_high: float = 0.0
    kl: float = 0.0
    entropy: float = 0.0
    entropy_tokens: float = 0.0


def policy_update(
    engine: Any,
    rollouts: Sequence[Rollout],
    advantages: torch.Tensor,
    weights: Sequence[float],
    config: TrainConfig,
    *,
    step: int,
    pad_id: int,
    reference: Any = None,
) -> UpdateStats:
    """Run the optimiser steps for one rollout batch (this rank's share of it)."""
    objective = config.objective
    steps = objective.updates_per_batch * objective.mini_batches
    engine.train()
    old = _logprobs_of(engine, rollouts, config, pad_id) if steps > 1 else None
    ref = _logprobs_of(reference, rollouts, config, pad_id) if objective.kl_coef > 0 else None
    totals, grad_norm = _Totals(), 0.0
    for update in range(objective.updates_per_batch):
        for indices in _mini_batches(len(rollouts), config, step=step, update=update):
            loss, grad_norm = _optimiser_step(
                engine,
                rollouts,
                indices,
                advantages,
                weights,
                config,
                pad_id=pad_id,
                old=old,
                ref=ref,
                totals=totals,
                with_entropy=update == 0,
            )
            totals.loss += loss
    summed = distributed.all_sum(
        [
            totals.loss,
            totals.tokens,
            totals.clip_low,
            totals.clip_high,
            totals.kl,
            totals.entropy,
            totals.entropy_tokens,
        ]
    )
    loss, tokens, clip_low, clip_high, kl, entropy, entropy_tokens = summed
    tokens = max(tokens, 1.0)
    return UpdateStats(
        loss=loss / distributed.world_size() / steps,
        clip_fraction=(clip_low + clip_high) / tokens,
        clip_low_fraction=clip_low / tokens,
        clip_high_fraction=clip_high / tokens,
        kl=kl / tokens,
        entropy=entropy / max(entropy_tokens, 1.0),
        grad_norm=grad_norm,
        learning_rate=float(engine.get_lr()[0]),
        optimiser_steps=steps,
    )


def _mini_batches(count: int, config: TrainConfig, *, step: int, update: int) -> list[list[int]]:
    """This rank's sample indices per mini-batch; shuffled (seeded) when a batch makes several
    optimiser steps, so mini-batches mix problems."""
    order = list(range(count))
    objective = config.objective
    if objective.updates_per_batch * objective.mini_batches > 1:
        random.Random(f"{config.seed}:{step}:{update}:{distributed.rank()}").shuffle(order)
    parts = objective.mini_batches
    size, extra = divmod(count, parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [order[bounds[i] : bounds[i + 1]] for i in range(parts)]


def _micro_batches(rollouts: Sequence[Rollout], indices: list[int], size: int) -> list[list[int]]:
    # Similar lengths share a micro-batch: less padding, same gradient.
    by_length = sorted(indices, key=lambda i: len(rollouts[i].prompt_ids) + len(rollouts[i].response_ids))
    return [by_length[i : i + size] for i in range(0, len(by_length), size)]


def _optimiser_step(
    engine: Any,
    rollouts: Sequence[Rollout],
    indices: list[int],
    advantages: torch.Tensor,
    weights: Sequence[float],
    config: TrainConfig,
    *,
    pad_id: int,
    old: list[torch.Tensor] | None,
    ref: list[torch.Tensor] | None,
    totals: _Totals,
    with_entropy: bool,
) -> tuple[float, float]:
    """One mini-batch: accumulate its micro-batches, then step. Returns (loss, grad norm)."""
    objective = config.objective
    constant = objective.constant_length or config.sampling.max_new_tokens
    local = normaliser(
        [len(rollouts[i].response_ids) for i in indices],
        [weights[i] for i in indices],
        objective.loss_aggregation,
        constant_length=constant,
    )
    divide_by = distributed.all_sum([local])[0] / distributed.world_size()
    micro = _micro_batches(rollouts, indices, objective.micro_batch_size)
    count = distributed.all_max(len(micro))
    loss_sum = 0.0
    for position in range(count):
        chosen = micro[position] if position < len(micro) else None
        engine.set_gradient_accumulation_boundary(position == count - 1)
        loss = _micro_loss(
            engine,
            rollouts,
            chosen,
            advantages,
            weights,
            config,
            pad_id=pad_id,
            old=old,
            ref=ref,
            divide_by=divide_by,
            totals=totals,
            with_entropy=with_entropy,
        )
        engine.backward(loss, scale_wrt_gas=False)
        loss_sum += float(loss.detach())
    grad_norm = _grad_norm_before_step(engine, config)
    engine.step()
    found = engine.get_global_grad_norm() if grad_norm is None else grad_norm
    return loss_sum, float(found) if found is not None else 0.0


def _micro_loss(
    engine: Any,
    rollouts: Sequence[Rollout],
    chosen: list[int] | None,
    advantages: torch.Tensor,
    weights: Sequence[float],
    config: TrainConfig,
    *,
    pad_id: int,
    old: list[torch.Tensor] | None,
    ref: list[torch.Tensor] | None,
    divide_by: float,
    totals: _Totals,
    with_entropy: bool,
) -> torch.Tensor:
    import torch

    if chosen is None:  # this rank has no more samples: a zero-weight pass keeps ranks in step
        packed = pack([[pad_id]], [[pad_id]], pad_id=pad_id, device=distributed.device())
        logprobs, _ = token_logprobs(engine, packed, temperature=config.sampling.temperature)
        return (logprobs * 0.0).sum()
    packed = _packed(rollouts, chosen, pad_id)
    logprobs, entropy = token_logprobs(
        engine, packed, temperature=config.sampling.temperature, with_entropy=with_entropy
    )
    if entropy is not None:
        totals.entropy += float((entropy * packed.response_mask).sum())
        totals.entropy_tokens += float(packed.response_mask.sum())
    row_weights = torch.tensor([weights[i] for i in chosen], device=logprobs.device).unsqueeze(1)
    mask = packed.response_mask * row_weights
    old_rows = _aligned(old, chosen, packed) if old is not None else logprobs.detach()
    ref_rows = _aligned(ref, chosen, packed) if ref is not None else None
    parts = micro_batch_loss(
        logprobs,
        old_rows,
        advantages[chosen].to(logprobs.device),
        mask,
        config.objective,
        divide_by=divide_by,
        ref_logprobs=ref_rows,
    )
    totals.tokens += parts.tokens
    totals.clip_low += parts.clip_low_tokens
    totals.clip_high += parts.clip_high_tokens
    totals.kl += parts.kl_sum
    return parts.loss


def _packed(rollouts: Sequence[Rollout], chosen: list[int], pad_id: int):
    return pack(
        [rollouts[i].prompt_ids for i in chosen],
        [rollouts[i].response_ids for i in chosen],
        pad_id=pad_id,
        device=distributed.device(),
    )


def _logprobs_of(
    model: Any, rollouts: Sequence[Rollout], config: TrainConfig, pad_id: int
) -> list[torch.Tensor]:
    """Each response's token log-probs under `model` (no gradients), one 1-D tensor per sample."""
    import torch

    found: list[torch.Tensor | None] = [None] * len(rollouts)
    indices = list(range(len(rollouts)))
    micro = _micro_batches(rollouts, indices, config.objective.micro_batch_size)
    count = distributed.all_max(len(micro))
    with torch.no_grad():
        for position in range(count):
            if position >= len(micro):  # keep ranks in step (ZeRO-3 gathers in every forward)
                packed = pack([[pad_id]], [[pad_id]], pad_id=pad_id, device=distributed.device())
                token_logprobs(model, packed, temperature=config.sampling.temperature)
                continue
            chosen = micro[position]
            packed = _packed(rollouts, chosen, pad_id)
            logprobs, _ = token_logprobs(model, packed, temperature=config.sampling.temperature)
            for row, index in enumerate(chosen):
                found[index] = logprobs[row][packed.response_mask[row] > 0].detach()
    return [t if t is not None else torch.zeros(0) for t in found]


def _aligned(per_sample: list[torch.Tensor], chosen: list[int], packed) -> torch.Tensor:
    """Per-sample 1-D log-probs placed at the response positions of a packed micro-batch."""
    import torch

    out = torch.zeros_like(packed.response_mask)
    for row, index in enumerate(chosen):
        out[row][packed.response_mask[row] > 0] = per_sample[index].to(out.device)
    return out


def _grad_norm_before_step(engine: Any, config: TrainConfig) -> float | None:
    """ZeRO 1-3 report the norm themselves after the step; stage 0 needs it computed here."""
    import torch

    if config.deepspeed.zero_stage != 0:
        return None
    grads = [p.grad for p in engine.module.parameters() if p.grad is not None]
    return float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0
