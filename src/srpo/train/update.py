"""The policy update: one rollout batch becomes `updates_per_batch x mini_batches` optimiser steps.

For every pass over the batch, the samples are split into mini-batches (shuffled with a seed
when there is more than one optimiser step); each mini-batch is one optimiser step, computed in
micro-batches whose gradients DeepSpeed accumulates. The loss of each micro-batch is already
divided by the normaliser of its whole mini-batch over all ranks (`objective.normaliser`), and
DeepSpeed is told not to rescale it, so accumulation gives exactly the full mini-batch loss.

Micro-batches are filled with length-sorted samples up to `objective.micro_batch_tokens`
padded tokens (and at most `micro_batch_size` samples), so the memory of a forward pass is
bounded by tokens, not by a count of sequences of any length.

The log-probs of the sampling policy ("old") are computed before the first step only when the
batch is used for more than one step; with a single step the policy is the sampling policy, and
the detached log-probs of the same forward pass are used (ratio 1, one forward pass saved).
They are also what the engine's log-probs are compared with: the importance weights
(`objective.importance_weights`) and the sampling/* statistics come from the first pass.
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
from srpo.train.objective import ImportanceWeights, importance_weights, micro_batch_loss, normaliser
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
    logp_diff_mean: float | None = None
    """Mean over response tokens of |trainer log-prob - engine log-prob| (None: the engine gave
    no log-probs)."""
    logp_diff_max: float | None = None
    is_ratio_mean: float | None = None
    """Mean importance weight per token, after the cap and the sequence bounds (also computed,
    as a diagnostic, when objective.importance_sampling is off)."""
    is_capped_frac: float | None = None
    """Share of tokens whose ratio exceeded objective.importance_sampling_cap."""
    is_masked_frac: float | None = None
    """Share of tokens in responses rejected by the geometric-mean bounds."""

    def as_metrics(self) -> dict[str, float | None]:
        return {"loss": self.loss, "clip_fraction": self.clip_fraction,
                "clip_low_fraction": self.clip_low_fraction, "clip_high_fraction": self.clip_high_fraction,
                "kl": self.kl, "entropy": self.entropy, "grad_norm": self.grad_norm,
                "learning_rate": self.learning_rate, "optimiser_steps": self.optimiser_steps,
                "sampling/logp_diff/mean": self.logp_diff_mean, "sampling/logp_diff/max": self.logp_diff_max,
                "sampling/is_ratio/mean": self.is_ratio_mean, "sampling/is_capped_frac": self.is_capped_frac,
                "sampling/is_masked_frac": self.is_masked_frac}  # fmt: skip


@dataclass(slots=True)
class _Totals:
    loss: float = 0.0
    tokens: float = 0.0
    clip_low: float = 0.0
    clip_high: float = 0.0
    kl: float = 0.0
    entropy: float = 0.0
    entropy_tokens: float = 0.0
    is_tokens: float = 0.0
    diff_sum: float = 0.0
    diff_max: float = 0.0
    ratio_sum: float = 0.0
    capped: float = 0.0
    masked: float = 0.0

    def add_sampling(self, found: ImportanceWeights) -> None:
        self.is_tokens += found.tokens
        self.diff_sum += found.diff_sum
        self.diff_max = max(self.diff_max, found.diff_max)
        self.ratio_sum += found.ratio_sum
        self.capped += found.capped
        self.masked += found.masked


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
    t = totals
    summed = distributed.all_sum([t.loss, t.tokens, t.clip_low, t.clip_high, t.kl, t.entropy,
                                  t.entropy_tokens, t.is_tokens, t.diff_sum, t.ratio_sum, t.capped,
                                  t.masked])  # fmt: skip
    loss, tokens, clip_low, clip_high, kl, entropy, entropy_tokens = summed[:7]
    is_tokens, diff_sum, ratio_sum, capped, masked = summed[7:]
    diff_max = distributed.all_max_float(t.diff_max)
    tokens = max(tokens, 1.0)
    sampled = is_tokens > 0  # some engine log-probs to compare with
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
        logp_diff_mean=diff_sum / is_tokens if sampled else None,
        logp_diff_max=diff_max if sampled else None,
        is_ratio_mean=ratio_sum / is_tokens if sampled else None,
        is_capped_frac=capped / is_tokens if sampled else None,
        is_masked_frac=masked / is_tokens if sampled else None,
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


def micro_batches(
    lengths: Sequence[int], indices: Sequence[int], *, max_tokens: int, max_size: int | None = None
) -> list[list[int]]:
    """`indices` grouped into micro-batches of similar lengths (less padding, same gradient):
    each holds at most `max_tokens` padded tokens (count x its longest) and `max_size` samples,
    and at least one sample (a longer one gets a micro-batch of its own)."""
    found: list[list[int]] = []
    current: list[int] = []
    for index in sorted(indices, key=lambda i: lengths[i]):
        full = max_size is not None and len(current) >= max_size
        if current and (full or (len(current) + 1) * lengths[index] > max_tokens):
            found.append(current)
            current = []
        current.append(index)
    return [*found, current] if current else found


def _micro_batches(rollouts: Sequence[Rollout], indices: list[int], config: TrainConfig) -> list[list[int]]:
    lengths = [len(r.prompt_ids) + len(r.response_ids) for r in rollouts]
    objective = config.objective
    return micro_batches(
        lengths, indices, max_tokens=objective.micro_batch_tokens, max_size=objective.micro_batch_size
    )


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
    micro = _micro_batches(rollouts, indices, config)
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
    engine_rows, has_engine = _engine_rows(rollouts, chosen, packed)
    weighted = importance_weights(old_rows, engine_rows, packed.response_mask, has_engine, config.objective)
    if with_entropy:  # the first pass over the batch: each sample counted once
        totals.add_sampling(weighted)
    parts = micro_batch_loss(
        logprobs,
        old_rows,
        advantages[chosen].to(logprobs.device),
        mask,
        config.objective,
        divide_by=divide_by,
        ref_logprobs=ref_rows,
        is_weights=weighted.weights if bool(has_engine.any()) else None,
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
    micro = _micro_batches(rollouts, indices, config)
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


def _engine_rows(rollouts: Sequence[Rollout], chosen: list[int], packed) -> tuple[torch.Tensor, torch.Tensor]:
    """The engine's log-probs placed like `_aligned`, and which rows have them (a row whose
    engine gave none, or a NaN, or not one per token, is left out of the correction)."""
    import torch

    out = torch.zeros_like(packed.response_mask)
    has = torch.zeros(len(chosen), dtype=torch.bool, device=out.device)
    for row, index in enumerate(chosen):
        values = rollouts[index].engine_logprobs
        if values is None or len(values) != len(rollouts[index].response_ids):
            continue
        found = torch.tensor(values, dtype=out.dtype)
        if bool(torch.isnan(found).any()):
            continue
        # A token the engine gave probability 0 (-inf) gets the largest ratio, which the cap bounds.
        out[row][packed.response_mask[row] > 0] = found.clamp(min=-1e4).to(out.device)
        has[row] = True
    return out, has


def _grad_norm_before_step(engine: Any, config: TrainConfig) -> float | None:
    """ZeRO 1-3 report the norm themselves after the step; stage 0 needs it computed here."""
    import torch

    if config.deepspeed.zero_stage != 0:
        return None
    grads = [p.grad for p in engine.module.parameters() if p.grad is not None]
    return float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0
