"""The rollout engine interface: prompts in, `n` sampled completions per prompt out.

Every backend (transformers, vLLM, an OpenAI-compatible server) takes the same `SamplingConfig`
and returns the same `Completion`s, so `srpo-curate difficulty` and the trainer can switch
backends with one option. Completions carry the response text, its token count, the finish
reason (`stop`: end of turn or a stop string; `length`: ran into `max_new_tokens`) and, where
the backend has them, the token ids the trainer needs for log-probabilities.

Covers: the shared types, the protocol and the stop-string rule. Does not cover: the backends
(one module each) or building prompts (`srpo.rollout.prompts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from srpo.errors import InputError

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True, kw_only=True)
class SamplingConfig:
    """How responses are sampled; the same fields mean the same thing in every backend."""

    n: int = 1
    """Samples per prompt (the group size in GRPO, `k` in pass@k)."""
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
            raise InputError(f"the number of samples must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise InputError(f"--temperature must not be negative, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise InputError(f"--top-p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise InputError(f"--max-new-tokens must be at least 1, got {self.max_new_tokens}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One sampled response."""

    text: str
    token_count: int
    """Response tokens generated, including the end-of-turn token when the model emitted one."""
    finish_reason: FinishReason
    token_ids: tuple[int, ...] | None = None
    """The response's token ids (None where the backend does not return them: `openai`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """The `n` samples for one prompt, in the order the prompts were given."""

    prompt_text: str
    """The prompt exactly as the model saw it (chat template applied)."""
    samples: tuple[Sample, ...]
    prompt_token_ids: tuple[int, ...] | None = None


@runtime_checkable
class RolloutEngine(Protocol):
    """What the difficulty command and the trainer need from a backend.

    Engines are context managers: `with create_engine(config) as engine: ...` frees the model
    (or the server connections) at the end.
    """

    name: str

    def generate(self, prompts: Sequence[Prompt], sampling: SamplingConfig) -> list[Completion]:
        """`sampling.n` samples for every prompt, one Completion per prompt, in order."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> RolloutEngine: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class UpdatableEngine(RolloutEngine, Protocol):
    """An engine that serves the trainer's latest weights (colocated with the optimiser)."""

    def update_weights(self, named_tensors: Iterable[tuple[str, Any]]) -> None:
        """Load (name, tensor) pairs in the Hugging Face naming of the model's parameters."""
        ...


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """The text before the earliest stop string, and whether one was found."""
    cut = min((index for stop in stops if stop and (index := text.find(stop)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class EngineBase:
    """Context-manager plumbing shared by the backends."""

    name = "engine"

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
