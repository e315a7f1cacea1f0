"""Choosing a backend: each backend's own config, built from `EngineConfig`, and `create_engine`.

`backend_config(engine)` (the `engine` section of a command's config) gives the chosen
backend's config; `engine_config(backend, model=..., **options)` builds one directly from keyword
options and refuses options the backend does not have, naming them, so a setting never silently
does nothing. The backend modules are imported only here, when an engine is created.

Covers: backend names, option checks, creation. Does not cover: the backends themselves.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from srpo.errors import InputError
from srpo.rollout.config import BACKENDS

if TYPE_CHECKING:
    from srpo.rollout.config import EngineConfig
    from srpo.rollout.engine import RolloutEngine
    from srpo.rollout.openai_engine import OpenAIEngineConfig
    from srpo.rollout.transformers_engine import TransformersEngineConfig
    from srpo.rollout.vllm_engine import VLLMEngineConfig

    BackendConfig = TransformersEngineConfig | VLLMEngineConfig | OpenAIEngineConfig

__all__ = ["BACKENDS", "backend_config", "backend_of", "config_class", "create_engine", "engine_config"]


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
    raise InputError(f"engine.backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


def engine_config(backend: str, *, model: str, **options: Any) -> BackendConfig:
    """The backend's config from keyword options; None values keep the backend's default."""
    cls = config_class(backend)
    known = {f.name for f in fields(cls)}
    given = {name: value for name, value in options.items() if value is not None}
    foreign = sorted(name for name in given if name not in known)
    if foreign:
        raise InputError(f"{', '.join(foreign)}: not a setting of the {backend} backend")
    config = cls(model=model, **given)
    config.validate()
    return config


def backend_config(engine: EngineConfig) -> BackendConfig:
    """The chosen backend's config from the `engine` section of a command's config."""
    engine.validate()
    if not engine.model:
        raise InputError("engine.model is not set: pass --model")
    if engine.backend == "transformers":
        return engine_config(
            "transformers", model=engine.model, device=engine.device, dtype=engine.dtype,
            batch_size=engine.batch_size, trust_remote_code=engine.trust_remote_code,
        )  # fmt: skip
    if engine.backend == "vllm":
        vllm = engine.vllm
        return engine_config(
            "vllm", model=engine.model, dtype=engine.dtype, trust_remote_code=engine.trust_remote_code,
            tensor_parallel_size=vllm.tensor_parallel_size,
            gpu_memory_utilization=vllm.gpu_memory_utilization, max_model_len=vllm.max_model_len,
            enable_prefix_caching=vllm.enable_prefix_caching,
            enforce_eager=vllm.enforce_eager, enable_sleep_mode=vllm.sleep_level is not None,
            extra_args=dict(vllm.extra_args),
        )  # fmt: skip
    server = engine.openai
    return engine_config(
        "openai", model=engine.model, base_url=server.base_url, api_key=server.api_key,
        max_concurrent_requests=server.max_concurrent_requests, timeout_s=server.timeout_s,
        max_retries=server.max_retries, token_counts=server.token_counts,
    )  # fmt: skip


def create_engine(config: EngineConfig | BackendConfig) -> RolloutEngine:
    """Open the engine for `config` (loads the model, or prepares the HTTP client)."""
    kind = type(config).__name__
    if kind == "EngineConfig":
        return create_engine(backend_config(config))  # type: ignore[arg-type]
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


def backend_of(config: EngineConfig | BackendConfig) -> str:
    if type(config).__name__ == "EngineConfig":
        return config.backend  # type: ignore[union-attr]
    return {
        "TransformersEngineConfig": "transformers",
        "VLLMEngineConfig": "vllm",
        "OpenAIEngineConfig": "openai",
    }[type(config).__name__]
