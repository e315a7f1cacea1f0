"""The rollout engine interface: prompts in, `n` sampled completions per prompt out.

Every backend (transformers, vLLM, an OpenAI-compatible server) takes the same `SamplingConfig`
and returns the same `Completion`s (see `sampling`), so `srpo-curate difficulty` and the trainer
can switch backends with one setting (`engine.backend`).

Covers: the protocol and the context-manager plumbing. Does not cover: the backends (one module
each), the sampled types (`sampling`) or building prompts (`prompts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt
    from srpo.rollout.sampling import Completion, SamplingConfig


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


class EngineBase:
    """Context-manager plumbing shared by the backends."""

    name = "engine"

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
