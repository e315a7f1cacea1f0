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


def _full_reference(model, packed, temperature):
    """Log-probs through the model's own full logits (what the chunked path must equal)."""
    logits = model(input_ids=packed.input_ids, attention_mask=packed.attention_mask).logits
    full = torch.log_softmax(logits[:, packed.start : -1].float() / temperature, -1)
    picked = full.gather(-1, packed.input_ids[:, packed.start + 1 :].unsqueeze(-1)).squeeze(-1)
    return picked * packed.response_mask


def test_chunked_head_gives_the_gradients_of_the_full_log_softmax(tiny_model, monkeypatch):
    from transformers import AutoModelForCausalLM

    import srpo.train.tokens as tokens

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    vocab = model.get_output_embeddings().weight.shape[0]
    monkeypatch.setattr(tokens, "CHUNK_ELEMENTS", 3 * vocab)  # 3 tokens per chunk: many chunks
    packed = pack([[5, 9, 13, 17], [21, 25]], [[30, 31, 32, 33, 34], [40, 41, 42, 43]], pad_id=0)
    upstream = torch.randn(packed.response_mask.shape, generator=torch.Generator().manual_seed(0))

    def gradients(compute):
        model.zero_grad()
        (compute() * upstream).sum().backward()
        return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}

    ours = gradients(lambda: token_logprobs(model, packed, temperature=0.6)[0])
    theirs = gradients(lambda: _full_reference(model, packed, 0.6))
    assert ours.keys() == theirs.keys() and "model.embed_tokens.weight" in ours  # the tied head too
    for name in ours:
        assert torch.allclose(ours[name], theirs[name], rtol=1e-4, atol=1e-6), name


def test_no_tensor_of_batch_by_tokens_by_vocabulary_is_ever_made(tiny_model, monkeypatch):
    """Every tensor an op creates in the forward and backward pass is recorded: those over the
    vocabulary hold one chunk of tokens (4 here), never the micro-batch's 120."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from transformers import AutoModelForCausalLM

    import srpo.train.tokens as tokens

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    vocab = model.get_output_embeddings().weight.shape[0]
    assert vocab != model.config.hidden_size
    monkeypatch.setattr(tokens, "CHUNK_ELEMENTS", 4 * vocab)
    responses = [[(7 * i + j) % vocab for j in range(40)] for i in range(3)]
    packed = pack([[1, 2, 3]] * 3, responses, pad_id=0)
    rows_over_vocab: list[int] = []

    class Recorder(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if any(r.alias_info is not None for r in func._schema.returns):
                return out  # a view (the head's weight transposed) holds no memory of its own
            for item in out if isinstance(out, tuple | list) else [out]:
                if isinstance(item, torch.Tensor) and item.dim() and item.shape[-1] == vocab:
                    rows_over_vocab.append(item.numel() // vocab)
            return out

    with Recorder():
        logprobs, entropy = token_logprobs(model, packed, temperature=1.0, with_entropy=True)
        logprobs.sum().backward()
    assert entropy is not None and logprobs.shape == packed.response_mask.shape
    assert rows_over_vocab and max(rows_over_vocab) == 4  # one chunk; 120 response tokens in all
    # and without the chunking the same model makes the whole block
    rows_over_vocab.clear()
    with Recorder():
        model(input_ids=packed.input_ids, attention_mask=packed.attention_mask).logits.sum().backward()
    assert max(rows_over_vocab) >= 120
