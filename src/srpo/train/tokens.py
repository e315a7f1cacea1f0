"""From sampled token ids to the tensors of the loss: padded batches and per-token log-probs.

A training sequence is the prompt's ids followed by the response's ids exactly as the engine
sampled them (the end-of-turn token included when the model emitted it), right-padded. The
hidden state at position t predicts token t + 1, so a response of length r after a prompt of
length p is scored by positions p - 1 ... p + r - 2. Only positions from the shortest prompt on
reach the LM head (`logits_to_keep`), and of those only the response tokens' are projected.

Bounded memory: the vocabulary projection is never materialised for a whole micro-batch. The
model runs with its LM head's `forward` swapped, for the length of one call, for a function that
takes the final hidden states and returns the log-probs of the targets, a chunk of tokens at a
time (`CHUNK_ELEMENTS` logits at once); the backward pass recomputes each chunk's logits
(`_chunked_head`, a custom autograd function) instead of keeping them. So neither the policy
nor the reference ever holds a [batch, tokens, vocab] tensor, only one [chunk, vocab] block
and the [vocab, hidden] gradient of the head. Calling the head module itself (rather than
using its weight directly) keeps DeepSpeed's ZeRO-3 hooks working: the weight is gathered for
the head's forward and again for its backward, as for any other module. (Models whose
forward changes the logits after the head, such as Gemma-2's soft-capping, are not supported.)

Log-probabilities divide the logits by the sampling temperature, so the ratio compares the
policy with the distribution the responses were drawn from.

Covers: packing, log-probs, entropy. Does not cover: the loss (`objective`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, slots=True)
class Packed:
    """A micro-batch of sequences, ready for the model."""

    input_ids: torch.Tensor
    """[B, L] prompt + response ids, right-padded."""
    attention_mask: torch.Tensor
    """[B, L] 1 on real tokens."""
    response_mask: torch.Tensor
    """[B, T] 1 where the kept positions score a response token (T = L - start - 1)."""
    start: int
    """First position whose hidden state is kept (the shortest prompt's last token)."""


def pack(
    prompts: Sequence[Sequence[int]], responses: Sequence[Sequence[int]], *, pad_id: int, device: Any = None
) -> Packed:
    """Right-padded prompt + response ids and the mask of the response tokens' scores."""
    import torch

    lengths = [len(p) + len(r) for p, r in zip(prompts, responses, strict=True)]
    width = max(lengths)
    start = max(0, min(len(p) for p in prompts) - 1)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(prompts), width), dtype=torch.long)
    response_mask = torch.zeros((len(prompts), width - 1 - start), dtype=torch.float32)
    for row, (prompt, response) in enumerate(zip(prompts, responses, strict=True)):
        ids = [*prompt, *response]
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention[row, : len(ids)] = 1
        first = len(prompt) - 1 - start
        response_mask[row, first : first + len(response)] = 1.0
    return Packed(
        input_ids=input_ids.to(device),
        attention_mask=attention.to(device),
        response_mask=response_mask.to(device),
        start=start,
    )


CHUNK_ELEMENTS = 1 << 25
"""Logits computed at a time (32M float32 values, 128 MiB): about 220 tokens of a 151,936-token
vocabulary, all of a small model's micro-batch at once."""


def chunk_tokens(vocab_size: int) -> int:
    """Tokens per chunk of the head for a vocabulary of this size."""
    return max(1, CHUNK_ELEMENTS // max(1, vocab_size))


def token_logprobs(
    model: Any, packed: Packed, *, temperature: float, with_entropy: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probability [B, T] of each next token under `model` (gradients flow when enabled;
    0 where `packed.response_mask` is 0), and the entropy of each next-token distribution
    (without gradients) if asked. `model` is a Hugging Face causal LM or a DeepSpeed engine
    around one."""
    module = getattr(model, "module", model)
    head = module.get_output_embeddings()
    scale = 1.0 / temperature if temperature > 0 else 1.0
    found: dict[str, torch.Tensor] = {}

    def scored(hidden: torch.Tensor) -> torch.Tensor:
        # hidden: [B, L - start, H]; the last position predicts nothing in the sequence.
        selected = packed.response_mask > 0
        targets = packed.input_ids[:, packed.start + 1 :][selected]
        picked, entropy = _chunked_head().apply(
            hidden[:, :-1][selected], head.weight, head.bias, targets, scale, with_entropy
        )
        found["entropy"] = _scattered(entropy, selected) if with_entropy else None
        return _scattered(picked, selected)

    keep = packed.input_ids.shape[1] - packed.start
    with _head_forward(head, scored):
        output = model(
            input_ids=packed.input_ids,
            attention_mask=packed.attention_mask,
            logits_to_keep=keep,
            use_cache=False,
        )
    logprobs = output.logits if hasattr(output, "logits") else output[0]
    return logprobs, found.get("entropy")


def _scattered(values: torch.Tensor, selected: torch.Tensor) -> torch.Tensor:
    """Per-token values [N] placed at the True positions of `selected` [B, T], 0 elsewhere."""
    import torch

    out = torch.zeros(selected.shape, dtype=values.dtype, device=values.device)
    return out.masked_scatter(selected, values)


@contextlib.contextmanager
def _head_forward(head: Any, replacement: Any) -> Iterator[None]:
    """The head module runs `replacement` instead of its own forward for the block; its module
    hooks (DeepSpeed's ZeRO-3 gathering) still run around it."""
    own = head.__dict__.get("forward")  # an instance-level forward (accelerate hooks) is kept
    head.forward = replacement
    try:
        yield
    finally:
        if own is None:
            del head.forward
        else:
            head.forward = own


@functools.cache
def _chunked_head() -> Any:
    """The autograd function (built on first use: torch is imported only inside functions)."""
    import torch

    class ChunkedHead(torch.autograd.Function):
        """log softmax(scale * (h W^T + b))[target] for N tokens, a chunk at a time; backward
        recomputes each chunk's logits from h, W and the saved log-normalisers."""

        @staticmethod
        def forward(ctx, hidden, weight, bias, targets, scale, with_entropy):
            count = hidden.shape[0]
            step = chunk_tokens(weight.shape[0])
            picked = torch.empty(count, dtype=torch.float32, device=hidden.device)
            normalisers = torch.empty_like(picked)
            entropy = torch.empty_like(picked) if with_entropy else None
            for first in range(0, count, step):
                part = slice(first, first + step)
                logits = _logits(hidden[part], weight, bias, scale)
                normaliser = torch.logsumexp(logits, dim=-1)
                normalisers[part] = normaliser
                picked[part] = logits.gather(-1, targets[part].unsqueeze(-1)).squeeze(-1) - normaliser
                if entropy is not None:  # -sum p log p, in place: at most two chunks at once
                    log_probs = logits.sub_(normaliser.unsqueeze(-1))
                    entropy[part] = -log_probs.exp().mul_(log_probs).sum(dim=-1)
                del logits
            ctx.save_for_backward(hidden, weight, bias, targets, normalisers)
            ctx.scale = scale
            if entropy is None:
                entropy = torch.zeros(0, device=hidden.device)
            ctx.mark_non_differentiable(entropy)
            return picked, entropy

        @staticmethod
        def backward(ctx, grad_picked, _grad_entropy):
            hidden, weight, bias, targets, normalisers = ctx.saved_tensors
            grad_hidden = torch.zeros_like(hidden) if ctx.needs_input_grad[0] else None
            grad_weight = (
                torch.zeros(weight.shape, dtype=torch.float32, device=weight.device)
                if ctx.needs_input_grad[1]
                else None
            )
            grad_bias = (
                torch.zeros(bias.shape, dtype=torch.float32, device=bias.device)
                if bias is not None and ctx.needs_input_grad[2]
                else None
            )
            step = chunk_tokens(weight.shape[0])
            for first in range(0, hidden.shape[0], step):
                part = slice(first, first + step)
                # d logp[target] / d logits = onehot(target) - softmax, times the temperature's
                # scale; built in the recomputed logits' own buffer (one chunk at a time).
                grad = _logits(hidden[part], weight, bias, ctx.scale)
                grad.sub_(normalisers[part].unsqueeze(-1)).exp_()
                upstream = grad_picked[part].float()
                grad.mul_(-upstream.unsqueeze(-1))
                grad.scatter_add_(-1, targets[part].unsqueeze(-1), upstream.unsqueeze(-1))
                grad.mul_(ctx.scale)
                if grad_hidden is not None:
                    grad_hidden[part] = (grad.to(weight.dtype) @ weight).to(hidden.dtype)
                if grad_weight is not None:
                    grad_weight.addmm_(grad.t(), hidden[part].float())
                if grad_bias is not None:
                    grad_bias.add_(grad.sum(dim=0))
            return (
                grad_hidden,
                grad_weight.to(weight.dtype) if grad_weight is not None else None,
                grad_bias.to(bias.dtype) if grad_bias is not None else None,
                None,
                None,
                None,
            )

    return ChunkedHead


def _logits(
    hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, scale: float
) -> torch.Tensor:
    """One chunk's float32 logits, divided by the temperature."""
    logits = hidden @ weight.t()
    if bias is not None:
        logits = logits + bias
    return logits.float().mul_(scale)
