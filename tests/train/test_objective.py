"""The GRPO objective on hand-computed numbers: advantages, clipping, KL, aggregation, overlong."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from srpo.train.config import ObjectiveConfig
from srpo.train.objective import (
    group_advantages,
    importance_weights,
    micro_batch_loss,
    normaliser,
    overlong_adjusted,
    token_losses,
)

SQRT3_OVER_2 = math.sqrt(3) / 2  # 0.5 / sample std of [1, 0, 0, 1] (= sqrt(1/3))


def test_group_advantages_scale_by_the_sample_std_or_not():
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    scaled = group_advantages(rewards, 4, scale_by_std=True)
    assert scaled.tolist() == pytest.approx(
        [SQRT3_OVER_2, -SQRT3_OVER_2, -SQRT3_OVER_2, SQRT3_OVER_2, 0, 0, 0, 0], rel=1e-5
    )
    centred = group_advantages(rewards, 4, scale_by_std=False)  # Dr. GRPO
    assert centred.tolist() == pytest.approx([0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0])
    # mean 1, deviations 1, -1, 0, sample std sqrt((1 + 1 + 0) / 2) = 1
    assert group_advantages(torch.tensor([2.0, 0.0, 1.0]), 3, scale_by_std=True).tolist() == pytest.approx(
        [1, -1, 0], rel=1e-5
    )
    with pytest.raises(ValueError, match="groups of 4"):
        group_advantages(torch.tensor([1.0, 0.0, 1.0]), 4, scale_by_std=True)


def test_clipped_surrogate_with_separate_low_and_high_epsilon():
    config = ObjectiveConfig(clip_eps_low=0.2, clip_eps_high=0.28)
    ratios = torch.tensor([[1.5, 0.5, 0.5, 1.5, 1.1]])
    advantage_per_token = [1.0, -1.0, 1.0, -1.0, 2.0]
    old = torch.zeros(1, 5)
    # One response per token so each token has its own advantage.
    losses, low, high, kl = token_losses(ratios.log().T, old.T, torch.tensor(advantage_per_token), config)
    # 1.5 with A>0 is capped at 1.28; 0.5 with A<0 is held at 0.8; the other two keep their
    # ratio because the unclipped term is the smaller one; 1.1 is inside the range.
    assert losses.squeeze(1).tolist() == pytest.approx([-1.28, 0.8, -0.5, 1.5, -2.2], rel=1e-6)
    assert high.squeeze(1).tolist() == [True, False, False, False, False]
    assert low.squeeze(1).tolist() == [False, True, False, False, False]
    assert kl.abs().sum() == 0


def test_k3_kl_to_the_reference():
    config = ObjectiveConfig(kl_coef=0.1)
    logprobs = torch.tensor([[math.log(0.5)]])
    reference = torch.tensor([[math.log(0.25)]])
    losses, _, _, kl = token_losses(logprobs, logprobs, torch.tensor([0.0]), config, reference)
    # exp(ref - logp) - (ref - logp) - 1 = 0.5 + ln 2 - 1
    assert kl.item() == pytest.approx(0.5 + math.log(2) - 1, rel=1e-6)
    assert losses.item() == pytest.approx(0.1 * (0.5 + math.log(2) - 1), rel=1e-6)
    off, _, _, _ = token_losses(logprobs, logprobs, torch.tensor([0.0]), ObjectiveConfig(), reference)
    assert off.item() == 0  # kl_coef 0: the reference is ignored


def two_sequences():
    """Lengths 1 and 3 (padded to 3), ratio 1, A = -2 and -1: token losses 2 | 1 1 1."""
    logprobs = torch.zeros(2, 3)
    mask = torch.tensor([[1.0, 0, 0], [1.0, 1.0, 1.0]])
    return logprobs, mask, torch.tensor([-2.0, -1.0])


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("token", (2 + 3) / 4), ("sequence", (2 / 1 + 3 / 3) / 2), ("constant", (2 + 3) / (2 * 4))],
)
def test_loss_aggregation(mode, expected):
    logprobs, mask, advantages = two_sequences()
    config = ObjectiveConfig(loss_aggregation=mode, constant_length=4)
    divide_by = normaliser([1, 3], [1.0, 1.0], mode, constant_length=4)
    whole = micro_batch_loss(logprobs, logprobs, advantages, mask, config, divide_by=divide_by)
    assert whole.loss.item() == pytest.approx(expected)
    assert whole.tokens == 4
    # Split into two micro-batches with the mini-batch's normaliser: the same loss.
    parts = [
        micro_batch_loss(
            logprobs[i : i + 1],
            logprobs[i : i + 1],
            advantages[i : i + 1],
            mask[i : i + 1],
            config,
            divide_by=divide_by,
        ).loss.item()
        for i in range(2)
    ]
    assert sum(parts) == pytest.approx(expected)


def test_overlong_rules():
    advantages = torch.tensor([1.0, -1.0])
    truncated = [False, True]
    kept, weights = overlong_adjusted(advantages, truncated, "keep")
    assert kept.tolist() == [1.0, -1.0] and weights == [1.0, 1.0]
    masked, weights = overlong_adjusted(advantages, truncated, "mask")  # DAPO overlong filtering
    assert masked.tolist() == [1.0, -1.0] and weights == [1.0, 0.0]
    assert normaliser([2, 5], weights, "token", constant_length=8) == 2
    assert normaliser([2, 5], weights, "sequence", constant_length=8) == 1
    zeroed, weights = overlong_adjusted(advantages, truncated, "zero_advantage")
    assert zeroed.tolist() == [1.0, 0.0] and weights == [1.0, 1.0]
    assert normaliser([2, 5], weights, "token", constant_length=8) == 7
    assert advantages.tolist() == [1.0, -1.0]  # the input is not modified


def test_masked_tokens_do_not_count():
    logprobs, mask, advantages = two_sequences()
    config = ObjectiveConfig(loss_aggregation="token")
    weighted = mask * torch.tensor([[1.0], [0.0]])  # second response masked out
    parts = micro_batch_loss(
        logprobs,
        logprobs,
        advantages,
        weighted,
        config,
        divide_by=normaliser([1, 3], [1.0, 0.0], "token", constant_length=1),
    )
    assert parts.loss.item() == pytest.approx(2.0) and parts.tokens == 1


def test_extreme_log_probs_at_masked_positions_keep_the_loss_and_gradient_finite():
    """A masked position's log-prob far below -88 (exp overflows float32) with a KL term."""
    config = ObjectiveConfig(kl_coef=0.05)
    logprobs = torch.tensor([[-0.5, -1000.0, -3e4], [-0.2, -0.1, -1e9]], requires_grad=True)
    reference = torch.tensor([[-0.4, 0.0, 0.0], [-0.3, -0.2, 0.0]])
    mask = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    parts = micro_batch_loss(
        logprobs, logprobs.detach(), torch.tensor([1.0, -1.0]), mask, config, divide_by=3.0,
        ref_logprobs=reference,
    )  # fmt: skip
    parts.loss.backward()
    assert torch.isfinite(parts.loss) and math.isfinite(parts.kl_sum)
    assert torch.isfinite(logprobs.grad).all() and (logprobs.grad[mask == 0] == 0).all()
    expected_kl = sum(math.exp(r - p) - (r - p) - 1 for r, p in ((-0.4, -0.5), (-0.3, -0.2), (-0.2, -0.1)))
    assert parts.kl_sum == pytest.approx(expected_kl, rel=1e-5)


def test_extreme_unmasked_log_ratios_are_clamped_not_infinite():
    config = ObjectiveConfig(kl_coef=0.1)
    logprobs = torch.tensor([[-500.0, 0.0]], requires_grad=True)
    losses, _, _, kl = token_losses(
        logprobs, torch.zeros(1, 2), torch.tensor([1.0]), config, torch.zeros(1, 2)
    )
    losses.sum().backward()
    assert torch.isfinite(losses).all() and torch.isfinite(logprobs.grad).all()
    assert kl[0, 0].item() == pytest.approx(10.0)  # k3 at most 10, as verl bounds it


def test_truncated_importance_weights_and_their_statistics():
    config = ObjectiveConfig(importance_sampling_cap=2.0)
    trainer = torch.tensor([[-1.0, -1.0, -1.0], [-2.0, -2.0, 0.0]])
    # ratios: 3 (capped at 2), 0.5, 1 | 1, e^0.1; the third token of row 2 is padding
    engine = torch.tensor([[-1.0 - math.log(3), -1.0 + math.log(2), -1.0], [-2.0, -2.1, -50.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    found = importance_weights(trainer, engine, mask, torch.tensor([True, True]), config)
    expected = [[2.0, 0.5, 1.0], [1.0, math.exp(0.1), 1.0]]
    assert found.weights.tolist() == [pytest.approx(row, rel=1e-5) for row in expected]
    assert (found.tokens, found.capped, found.masked) == (5, 1, 0)
    assert found.diff_sum == pytest.approx(math.log(3) + math.log(2) + 0.1, rel=1e-5)
    assert found.diff_max == pytest.approx(math.log(3), rel=1e-5)
    assert found.ratio_sum == pytest.approx(2 + 0.5 + 1 + 1 + math.exp(0.1), rel=1e-5)
    # A row without engine log-probs keeps weight 1 and stays out of the statistics.
    partial = importance_weights(trainer, engine, mask, torch.tensor([False, True]), config)
    assert partial.weights[0].tolist() == [1.0, 1.0, 1.0] and partial.tokens == 2
    # Off: the statistics are the same, the applied weights all 1.
    off = importance_weights(
        trainer, engine, mask, torch.tensor([True, True]), replace(config, importance_sampling=False)
    )
    assert (off.weights == 1).all() and off.ratio_sum == found.ratio_sum


def test_sequences_outside_the_geometric_mean_bounds_are_rejected():
    config = ObjectiveConfig(importance_sampling_mask_below=0.5, importance_sampling_mask_above=2.0)
    trainer = torch.zeros(3, 2)
    # geometric means: e^-1 (below 0.5), e^0.05 (kept), e^1 (above 2)
    engine = torch.tensor([[1.0, 1.0], [-0.1, 0.0], [-1.0, -1.0]])
    mask = torch.ones(3, 2)
    found = importance_weights(trainer, engine, mask, torch.ones(3, dtype=torch.bool), config)
    assert found.weights[0].tolist() == [0.0, 0.0] and found.weights[2].tolist() == [0.0, 0.0]
    assert found.weights[1].tolist() == pytest.approx([math.exp(0.1), 1.0])
    assert found.masked == 4


def test_importance_weights_scale_the_surrogate_not_the_kl():
    config = ObjectiveConfig(kl_coef=0.5)
    logprobs = torch.tensor([[math.log(0.5)]])
    reference = torch.tensor([[math.log(0.25)]])
    plain, _, _, kl = token_losses(logprobs, logprobs, torch.tensor([2.0]), config, reference)
    weighted, _, _, _ = token_losses(
        logprobs, logprobs, torch.tensor([2.0]), config, reference, is_weights=torch.tensor([[0.25]])
    )
    assert plain.item() == pytest.approx(-2.0 + 0.5 * kl.item())
    assert weighted.item() == pytest.approx(-0.5 + 0.5 * kl.item())
