"""What is sampled and how: `SamplingConfig` in, one `Completion` of `n` `Sample`s per prompt out.

The same fields mean the same thing in every backend and every command: the `sampling` section
of `srpo-curate difficulty` (where `n` is the k of pass@k) and of `srpo-train` (where `n` is the
GRPO group size). Completions carry the response text, its token count, the finish reason
(`stop`: end of turn or a stop string; `length`: ran into `max_new_tokens`) and, where the
backend has them, the token ids the trainer needs for log-probabilities and the engine's own
log-probs of the sampled tokens (for the trainer's importance-sampling correction).

Covers: the types and the stop-string rule. Does not cover: the engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from srpo.errors import InputError

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True, kw_only=True)
class SamplingConfig:
    """How responses are sampled; the same fields mean the same thing in every backend."""

    n: int = 1
    """Samples per prompt: the group size in srpo-train (GRPO), the k of pass@k in difficulty."""
    temperature: float = 1.0
    """Softmax temperature; 0 means greedy decoding (and then all `n` samples agree)."""
    top_p: float = 1.0
    """Nucleus sampling: keep the smallest set of tokens whose probability reaches top_p."""
    max_new_tokens: int = 1024
    """Longest response in tokens; a response cut here has finish reason `length`."""
    seed: int | None = 0
    """Seed for sampling in each `generate` call (None: not seeded). Backends differ in how
    batches share random streams, so the same seed reproduces results on the same backend only."""
    stop: tuple[str, ...] = ()
    """Strings that end a response; the text is cut before the first one (as vLLM does)."""

    def validate(self) -> None:
        if self.n < 1:
            raise InputError(f"sampling.n (samples per prompt) must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise InputError(f"sampling.temperature must not be negative, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise InputError(f"sampling.top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise InputError(f"sampling.max_new_tokens must be at least 1, got {self.max_new_tokens}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One sampled response."""

    text: str
    token_count: int
    """Response tokens generated, including the end-of-turn token when the model emitted one."""
    finish_reason: FinishReason
    token_ids: tuple[int, ...] | None = None
    """The response's token ids (None where the backend does not return them: `openai`)."""
    logprobs: tuple[float, ...] | None = None
    """The log-probability of each response token under the distribution the engine sampled it
    from (after temperature and top-p: vLLM's "processed" log-probs, the transformers engine's
    processed scores), one per token (as many as `token_ids`); None where the backend gives
    none. The trainer's importance-sampling correction compares them with its own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """The `n` samples for one prompt, in the order the prompts were given."""

    prompt_text: str
    """The prompt exactly as the model saw it (chat template applied)."""
    samples: tuple[Sample, ...]
    prompt_token_ids: tuple[int, ...] | None = None


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """The text before the earliest stop string, and whether one was found."""
    cut = min((index for stop in stops if stop and (index := text.find(stop)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
