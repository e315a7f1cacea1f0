"""The GRPO objective on hand-computed numbers: advantages, clipping, KL, aggregation, overlong."""

from __future__ import annotations

import math

import pytest
import torch

from srpo.train.config import ObjectiveConfig
from srpo.train.objective import (
    group_advantages,
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
