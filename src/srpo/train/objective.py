"""The GRPO objective: group advantages, the clipped surrogate, KL to a reference, aggregation.

Each variant is a field of `ObjectiveConfig` (see its docstrings for the papers):

- advantages: a response's reward minus its group's mean, divided by the group's standard
  deviation (GRPO) or not (Dr. GRPO). The std is the sample std (n - 1), as TRL and verl use;
  a group whose rewards are all equal gets advantage 0 whatever the scaling.
- per-token loss: -min(ratio * A, clip(ratio, 1 - eps_low, 1 + eps_high) * A) with
  ratio = exp(logp - logp_old) (PPO; DAPO's separate upper epsilon), times the truncated
  importance weight of the token (below), plus kl_coef times the k3 estimate of
  KL(policy || reference): exp(ref - logp) - (ref - logp) - 1 (GRPO).
- finite by construction: every log-ratio is set to 0 at masked positions (padding, prompts,
  masked responses) *before* it is exponentiated, then clamped to [-20, 20], and the k3 value
  to at most 10 (as verl does), so an extreme log-prob anywhere (a padded position, a very low
  temperature) cannot give inf * 0 = NaN in the loss or its gradient.
- importance sampling (rollout correction): the engine that sampled the responses (vLLM, or
  the transformers engine) computes its log-probs with other kernels, precision and sampling
  filters (top-p) than the trainer; `importance_weights` gives each token
  w = min(pi_old / mu, cap), pi_old the trainer's probability before the update and mu the
  engine's (truncated importance sampling, TIS; Yao et al. 2025, as TRL and verl do), and can
  zero whole sequences whose geometric-mean ratio lies outside given bounds (verl's
  geometric rejection, Liu, Li et al. 2025). The weights carry no gradient.
- aggregation: a batch's loss is the sum of its token losses divided by a normaliser that
  depends on the mode: `token` the number of loss tokens in the whole mini-batch; `sequence`
  each response's mean token loss, averaged over responses; `constant` responses x a constant
  length. The normaliser is computed over the whole mini-batch (all micro-batches and ranks)
  before any backward pass, so gradient accumulation gives exactly the loss of the full batch.
- overlong: truncated responses are masked out of the loss, or keep their tokens with A = 0.

Covers: the numbers, as pure functions of tensors. Does not cover: computing log-probabilities
from a model (`tokens`) or the optimiser loop (`update`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from srpo.train.config import ObjectiveConfig

STD_EPSILON = 1e-6
"""Added to the std before dividing (a group of equal rewards has std 0 and advantage 0)."""


def group_advantages(rewards: torch.Tensor, group_size: int, *, scale_by_std: bool) -> torch.Tensor:
    """Advantages for rewards laid out group after group ([g0s0, g0s1, ..., g1s0, ...])."""
    if rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}")
    grouped = rewards.float().view(-1, group_size)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    if scale_by_std:
        centred = centred / (grouped.std(dim=1, keepdim=True) + STD_EPSILON)
    return centred.reshape(-1)


def overlong_adjusted(
    advantages: torch.Tensor, truncated: Sequence[bool], mode: str
) -> tuple[torch.Tensor, list[float]]:
    """Apply the overlong rule to a batch: returns the advantages and each response's loss
    weight. `mask` gives a truncated response weight 0 (out of the loss and the normaliser);
    `zero_advantage` sets its advantage to 0 (its tokens still count in the normaliser);
    `keep` changes nothing."""
    advantages = advantages.clone()
    weights = [1.0] * len(truncated)
    for index, cut in enumerate(truncated):
        if cut and mode == "mask":
            weights[index] = 0.0
        elif cut and mode == "zero_advantage":
            advantages[index] = 0.0
    return advantages, weights


def normaliser(lengths: Sequence[int], weights: Sequence[float], mode: str, *, constant_length: int) -> float:
    """What a mini-batch's summed loss is divided by (see the module docstring), from each
    response's length and loss weight; this rank's share, to be summed over ranks."""
    if mode == "token":
        return float(sum(length * weight for length, weight in zip(lengths, weights, strict=True)))
    if mode == "sequence":
        return float(sum(1 for length, weight in zip(lengths, weights, strict=True) if length and weight))
    if mode == "constant":
        return float(len(lengths) * constant_length)
    raise ValueError(f"unknown loss aggregation {mode!r}")


LOG_RATIO_LIMIT = 20.0
"""Log-ratios are clamped to [-20, 20] before exp (e^20 is about 5e8: finite, and far outside
any clip range), as verl does."""
KL_LIMIT = 10.0
"""The k3 value per token is clamped to at most this (verl's bound)."""


@dataclass(frozen=True, slots=True)
class LossParts:
    """One micro-batch's loss (already divided by the normaliser) and what to report about it."""

    loss: torch.Tensor
    tokens: float
    """Loss tokens in this micro-batch (weights for the token means below)."""
    clip_low_tokens: float
    """Tokens whose ratio fell below 1 - eps_low with A < 0: clipped, no gradient."""
    clip_high_tokens: float
    """Tokens whose ratio rose above 1 + eps_high with A > 0: clipped, no gradient."""
    kl_sum: float
    """Sum of the k3 KL estimate over loss tokens (0 without a reference)."""


def masked_log_ratio(
    numerator: torch.Tensor, denominator: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """numerator - denominator, 0 where `mask` is 0 and clamped to +-LOG_RATIO_LIMIT: safe to
    exponentiate, and safe to differentiate (the masked positions never see an inf)."""
    import torch

    difference = numerator - denominator
    if mask is not None:
        difference = torch.where(mask > 0, difference, torch.zeros_like(difference))
    return difference.clamp(-LOG_RATIO_LIMIT, LOG_RATIO_LIMIT)


def token_losses(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    config: ObjectiveConfig,
    ref_logprobs: torch.Tensor | None = None,
    *,
    mask: torch.Tensor | None = None,
    is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-token loss [B, T] for advantages [B], and masks of low/high clipped tokens and the
    per-token KL (zeros without a reference). Positions where `mask` is 0 get finite values
    whatever their log-probs; `is_weights` (no gradient) multiply the clipped surrogate."""
    import torch

    ratio = torch.exp(masked_log_ratio(logprobs, old_logprobs, mask))
    advantage = advantages.unsqueeze(1)
    unclipped = ratio * advantage
    clipped = torch.clamp(ratio, 1 - config.clip_eps_low, 1 + config.clip_eps_high) * advantage
    loss = -torch.minimum(unclipped, clipped)
    if is_weights is not None:
        loss = loss * is_weights.detach()
    clip_low = (ratio < 1 - config.clip_eps_low) & (advantage < 0)
    clip_high = (ratio > 1 + config.clip_eps_high) & (advantage > 0)
    kl = torch.zeros_like(loss)
    if ref_logprobs is not None and config.kl_coef > 0:
        log_ratio = masked_log_ratio(ref_logprobs, logprobs, mask)
        kl = (torch.exp(log_ratio) - log_ratio - 1).clamp(max=KL_LIMIT)
        loss = loss + config.kl_coef * kl
    return loss, clip_low, clip_high, kl


def micro_batch_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    config: ObjectiveConfig,
    *,
    divide_by: float,
    ref_logprobs: torch.Tensor | None = None,
    is_weights: torch.Tensor | None = None,
) -> LossParts:
    """The loss of one micro-batch ([B, T] tensors, `mask` 1 on loss tokens) as its share of
    the mini-batch loss: the aggregated sum divided by the mini-batch's normaliser."""
    losses, clip_low, clip_high, kl = token_losses(
        logprobs, old_logprobs, advantages, config, ref_logprobs, mask=mask, is_weights=is_weights
    )
    mask = mask.to(losses.dtype)
    if config.loss_aggregation == "sequence":
        lengths = mask.sum(dim=1).clamp(min=1)
        total = ((losses * mask).sum(dim=1) / lengths).sum()
    else:
        total = (losses * mask).sum()
    return LossParts(
        loss=total / max(divide_by, 1e-12),
        tokens=float(mask.sum()),
        clip_low_tokens=float((clip_low * mask).sum()),
        clip_high_tokens=float((clip_high * mask).sum()),
        kl_sum=float((kl.detach() * mask).sum()),
    )


@dataclass(frozen=True, slots=True)
class ImportanceWeights:
    """Per-token weights for one micro-batch and the sums its statistics are made of."""

    weights: torch.Tensor
    """[B, T] the weight of each token's surrogate: 1 where the engine gave no log-probs or the
    correction is off, else min(exp(trainer - engine), cap), 0 in a rejected sequence."""
    tokens: float
    """Response tokens with engine log-probs (the denominator of the means below)."""
    diff_sum: float
    """Sum of |trainer logp - engine logp| over those tokens."""
    diff_max: float
    ratio_sum: float
    """Sum of the capped and masked weights over those tokens (computed the same way when the
    correction is off, when they are not applied)."""
    capped: float
    """Tokens whose ratio exceeded the cap."""
    masked: float
    """Tokens of sequences rejected by the geometric-mean bounds."""


def importance_weights(
    trainer: torch.Tensor,
    engine: torch.Tensor,
    mask: torch.Tensor,
    has_engine: torch.Tensor,
    config: ObjectiveConfig,
) -> ImportanceWeights:
    """Truncated importance weights between the trainer's log-probs before the update
    (`trainer`, [B, T], detached) and the engine's (`engine`); `mask` marks response tokens,
    `has_engine` [B] the rows whose engine returned log-probs. See the module docstring."""
    import torch

    valid = (mask > 0) & has_engine.unsqueeze(1)
    log_ratio = masked_log_ratio(trainer.detach(), engine, valid.float())
    ratio = torch.exp(log_ratio)
    weights = ratio.clamp(max=config.importance_sampling_cap)
    capped = (ratio > config.importance_sampling_cap) & valid
    rejected = torch.zeros_like(valid)
    low, high = config.importance_sampling_mask_below, config.importance_sampling_mask_above
    if low is not None or high is not None:
        lengths = valid.sum(dim=1).clamp(min=1)
        geometric = torch.exp(log_ratio.sum(dim=1) / lengths)
        outside = torch.zeros_like(geometric, dtype=torch.bool)
        if low is not None:
            outside |= geometric < low
        if high is not None:
            outside |= geometric > high
        rejected = outside.unsqueeze(1) & valid
        weights = torch.where(rejected, torch.zeros_like(weights), weights)
    weights = torch.where(valid, weights, torch.ones_like(weights))
    difference = (trainer.detach() - engine).abs()
    difference = torch.where(valid, difference, torch.zeros_like(difference))
    applied = weights if config.importance_sampling else torch.ones_like(weights)
    return ImportanceWeights(
        weights=applied,
        tokens=float(valid.sum()),
        diff_sum=float(difference.sum()),
        diff_max=float(difference.max()) if difference.numel() else 0.0,
        ratio_sum=float(weights[valid].sum()),
        capped=float(capped.sum()),
        masked=float(rejected.sum()),
    )
