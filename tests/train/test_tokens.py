"""Packing prompt + response ids and scoring the response tokens with a real tiny model."""

from __future__ import annotations

import pytest
import torch

from srpo.train.tokens import pack, token_logprobs


def test_pack_places_the_response_scores():
    packed = pack([[1, 2, 3], [4, 5]], [[6, 7], [8]], pad_id=0)
    assert packed.input_ids.tolist() == [[1, 2, 3, 6, 7], [4, 5, 8, 0, 0]]
    assert packed.attention_mask.tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    # logits from position 1 (the shortest prompt's last token) on; they predict tokens 2..4
    assert packed.start == 1
    assert packed.response_mask.tolist() == [[0, 1, 1], [1, 0, 0]]


def test_logprobs_match_a_full_log_softmax(tiny_model):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    prompts, responses = [[5, 9, 13, 17], [21, 25]], [[30, 31, 32], [40, 41, 42, 43]]
    packed = pack(prompts, responses, pad_id=0)
    with torch.no_grad():
        logprobs, entropy = token_logprobs(model, packed, temperature=0.7, with_entropy=True)
        full = torch.log_softmax(
            model(input_ids=packed.input_ids, attention_mask=packed.attention_mask).logits / 0.7, -1
        )
    for row, (prompt, response) in enumerate(zip(prompts, responses, strict=True)):
        expected = [full[row, len(prompt) - 1 + i, token].item() for i, token in enumerate(response)]
        got = logprobs[row][packed.response_mask[row] > 0].tolist()
        assert got == pytest.approx(expected, abs=1e-5)
        position = len(prompt) - 1 - packed.start
        manual_entropy = -(full[row, len(prompt) - 1].exp() * full[row, len(prompt) - 1]).sum().item()
        assert entropy[row, position].item() == pytest.approx(manual_entropy, abs=1e-4)
