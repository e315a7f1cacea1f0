"""From sampled token ids to the tensors of the loss: padded batches and per-token log-probs.

A training sequence is the prompt's ids followed by the response's ids exactly as the engine
sampled them (the end-of-turn token included when the model emitted it), right-padded. The
logits at position t predict token t + 1, so a response of length r after a prompt of length p
is scored by logits p - 1 ... p + r - 2. Only the logits from the shortest prompt on are
computed (`logits_to_keep`), which saves the vocabulary projection of the prompts.

Log-probabilities divide the logits by the sampling temperature, so the ratio compares the
policy with the distribution the responses were drawn from.

Covers: packing, log-probs, entropy. Does not cover: the loss (`objective`).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """[B, T] 1 where the kept logits score a response token (T = L - start - 1)."""
    start: int
    """First position whose logits are kept (the shortest prompt's last token)."""


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


CHUNK_ELEMENTS = 1 << 24
"""Logits converted to float32 at a time (64 MiB): whole micro-batches of small models at once,
a few rows of a 150k-vocabulary model, never the [B, T, vocab] float32 copy of a large one."""


def token_logprobs(
    model: Any, packed: Packed, *, temperature: float, with_entropy: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probability [B, T] of each next token under `model` (gradients flow when enabled),
    and the entropy of each next-token distribution (computed without gradients) if asked."""
    import torch

    keep = packed.input_ids.shape[1] - packed.start
    output = model(
        input_ids=packed.input_ids,
        attention_mask=packed.attention_mask,
        logits_to_keep=keep,
        use_cache=False,
    )
    logits = output.logits[:, :-1, :]
    targets = packed.input_ids[:, packed.start + 1 :]
    scale = 1.0 / temperature if temperature > 0 else 1.0
    rows = max(1, CHUNK_ELEMENTS // max(1, logits.shape[1] * logits.shape[2]))
    logprobs, entropies = [], []
    for first in range(0, logits.shape[0], rows):
        chunk = logits[first : first + rows].float() * scale
        normaliser = torch.logsumexp(chunk, dim=-1)
        picked = chunk.gather(-1, targets[first : first + rows].unsqueeze(-1)).squeeze(-1)
        logprobs.append(picked - normaliser)
        if with_entropy:
            with torch.no_grad():
                log_p = chunk.detach() - normaliser.detach().unsqueeze(-1)
                entropies.append(-(log_p.exp() * log_p).sum(dim=-1))
    return torch.cat(logprobs), (torch.cat(entropies) if with_entropy else None)
