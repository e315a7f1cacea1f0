"""Supervised fine-tuning of a small model on (prompt, completion) pairs, in mini-batches, on CPU.

`teach_tiny_model` (tiny_model) fits a handful of pairs in full batches; this fits thousands
in shuffled mini-batches with a warm-up and cosine decay, the way a base policy for an RL
experiment is made: taught a task family well enough to solve some problems, not all. The
prompts are rendered exactly as the rollout engines render them (`render_prompt`), so the
model is taught on the very token ids it later samples from.

Covers: tokenising pairs, the fitting loop, saving. Does not cover: what the pairs say
(`arithmetic`), RL (`srpo.train`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt


@dataclass(frozen=True, kw_only=True)
class SftOptions:
    """How long and how hard the model is fitted."""

    steps: int = 400
    """Optimiser steps (one mini-batch each)."""
    batch_size: int = 64
    """Pairs per step."""
    learning_rate: float = 2e-3
    """Peak AdamW learning rate (small models take large steps)."""
    warmup_steps: int = 20
    """Linear warm-up; then cosine decay to a tenth of the peak."""
    seed: int = 0
    """Seeds the order of the pairs."""


def tokenised_pairs(tokenizer, pairs: Sequence[tuple[Prompt, str]]) -> list[tuple[list[int], list[int]]]:
    """(prompt ids as the engines render them, completion ids ending with the end token)."""
    from srpo.rollout.rendering import render_prompt

    found = []
    for prompt, completion in pairs:
        _, prompt_ids = render_prompt(tokenizer, prompt)
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        found.append((list(prompt_ids), [*completion_ids, tokenizer.eos_token_id]))
    return found


def _batch(rows: Sequence[tuple[list[int], list[int]]], pad: int):
    """Right-padded ids, labels on the completion only, and the attention mask."""
    import torch

    width = max(len(p) + len(c) for p, c in rows)
    ids, labels, mask = [], [], []
    for prompt, completion in rows:
        sequence = prompt + completion
        padding = width - len(sequence)
        ids.append(sequence + [pad] * padding)
        labels.append([-100] * len(prompt) + completion + [-100] * padding)
        mask.append([1] * len(sequence) + [0] * padding)
    return torch.tensor(ids), torch.tensor(labels), torch.tensor(mask)


def _learning_rate(step: int, options: SftOptions) -> float:
    if step < options.warmup_steps:
        return options.learning_rate * (step + 1) / options.warmup_steps
    progress = (step - options.warmup_steps) / max(1, options.steps - options.warmup_steps)
    return options.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def fine_tune(
    directory: str | Path, pairs: Sequence[tuple[Prompt, str]], options: SftOptions | None = None
) -> list[float]:
    """Fit the model in `directory` on the pairs and save it in place; returns the loss of
    every step."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = options or SftOptions()
    path = Path(directory)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    rows = tokenised_pairs(tokenizer, pairs)
    rng = random.Random(options.seed)
    order: list[int] = []
    losses: list[float] = []
    optimiser = torch.optim.AdamW(model.parameters(), lr=options.learning_rate, weight_decay=0.0)
    model.train()
    for step in range(options.steps):
        if len(order) < options.batch_size:  # a fresh pass over the pairs, reshuffled
            order += rng.sample(range(len(rows)), len(rows))
        chosen, order = order[: options.batch_size], order[options.batch_size :]
        ids, labels, mask = _batch([rows[i] for i in chosen], tokenizer.pad_token_id)
        for group in optimiser.param_groups:
            group["lr"] = _learning_rate(step, options)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        losses.append(float(loss.detach()))
    model.eval()
    model.save_pretrained(path)
    return losses
