"""Choosing a backend: one config type per backend, and `create_engine` to open it.

`engine_config(backend, model=..., **options)` builds the config from command-line options and
refuses options that the chosen backend does not have, naming them, so a flag never silently
does nothing. The backend modules are imported only here, when an engine is created.

Covers: backend names, option checks, creation. Does not cover: the backends themselves.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from srpo.errors import InputError

if TYPE_CHECKING:
    from srpo.rollout.engine import RolloutEngine
    from srpo.rollout.openai_engine import OpenAIEngineConfig
    from srpo.rollout.transformers_engine import TransformersEngineConfig
    from srpo.rollout.vllm_engine import VLLMEngineConfig

    EngineConfig = TransformersEngineConfig | VLLMEngineConfig | OpenAIEngineConfig

BACKENDS: tuple[str, ...] = ("transformers", "vllm", "openai")


def config_class(backend: str) -> type:
    if backend == "transformers":
        from srpo.rollout.transformers_engine import TransformersEngineConfig

        return TransformersEngineConfig
    if backend == "vllm":
        from srpo.rollout.vllm_engine import VLLMEngineConfig

        return VLLMEngineConfig
    if backend == "openai":
        from srpo.rollout.openai_engine import OpenAIEngineConfig

        return OpenAIEngineConfig
    raise InputError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


def engine_config(backend: str, *, model: str, **options: Any) -> EngineConfig:
    """The backend's config from options; None values keep the backend's default."""
    cls = config_class(backend)
    known = {f.name for f in fields(cls)}
    given = {name: value for name, value in options.items() if value is not None}
    foreign = sorted(name for name in given if name not in known)
    if foreign:
        flags = ", ".join("--" + name.replace("_", "-") for name in foreign)
        raise InputError(f"{flags}: not an option of the {backend} backend")
    config = cls(model=model, **given)
    config.validate()
    return config


def create_engine(config: EngineConfig) -> RolloutEngine:
    """Open the engine for `config` (loads the model, or prepares the HTTP client)."""
    kind = type(config).__name__
    if kind == "TransformersEngineConfig":
        from srpo.rollout.transformers_engine import TransformersEngine

        return TransformersEngine(config)
    if kind == "VLLMEngineConfig":
        from srpo.rollout.vllm_engine import VLLMEngine

        return VLLMEngine(config)
    if kind == "OpenAIEngineConfig":
        from srpo.rollout.openai_engine import OpenAIEngine

        return OpenAIEngine(config)
    raise TypeError(f"not an engine config: {kind}")


def backend_of(config: EngineConfig) -> str:
    return {
        "TransformersEngineConfig": "transformers",
        "VLLMEngineConfig": "vllm",
        "OpenAIEngineConfig": "openai",
    }[type(config).__name__]
