"""The rollout engine's settings, one shape for every command that samples.

`srpo-curate difficulty` and `srpo-train` both read an `engine` section (`EngineConfig`: which
backend, which model, how generation is batched, the vLLM and OpenAI-server settings) and a
`sampling` section (`SamplingConfig`, in `sampling`), from a config file or `--set
engine.vllm.gpu_memory_utilization=0.5`. `backends.backend_config` turns it into the backend's
own config (`TransformersEngineConfig`, `VLLMEngineConfig`, `OpenAIEngineConfig`), and
`create_engine` opens either.

Covers: the fields, their defaults and checks. Does not cover: the backends themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from srpo.errors import InputError

Backend = Literal["transformers", "vllm", "openai"]
BACKENDS: tuple[str, ...] = ("transformers", "vllm", "openai")


@dataclass(frozen=True, kw_only=True)
class VLLMSettings:
    """The `vllm` backend's settings (ignored by the others)."""

    tensor_parallel_size: int = 1
    """GPUs the model is sharded over."""
    gpu_memory_utilization: float = 0.9
    """Share of each GPU's memory vLLM may take (weights plus KV cache); lower it when the trainer
    shares the GPU (srpo-train's default is 0.4)."""
    max_model_len: int | None = None
    """Longest prompt plus response; None takes the model's own limit."""
    enable_prefix_caching: bool = True
    """Reuse the KV cache of shared prompt prefixes (the `n` samples of one prompt share it)."""
    enforce_eager: bool = False
    """Skip CUDA graph capture: slower decoding, faster start, less memory."""
    sleep_level: int | None = None
    """srpo-train: put vLLM to sleep during the update (1: weights to CPU; 2: dropped and reloaded
    by the weight sync) to give its memory to the optimiser; None keeps it awake (GPUs only)."""
    extra_args: Mapping[str, Any] = field(default_factory=dict)
    """Further keyword arguments for `vllm.LLM` (e.g. `{"swap_space": 4}`)."""

    def validate(self) -> None:
        if self.tensor_parallel_size < 1:
            raise InputError(
                f"engine.vllm.tensor_parallel_size must be at least 1, got {self.tensor_parallel_size}"
            )
        if not 0 < self.gpu_memory_utilization <= 1:
            raise InputError(
                f"engine.vllm.gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}"
            )
        if self.sleep_level not in (None, 1, 2):
            raise InputError(f"engine.vllm.sleep_level must be 1, 2 or null, got {self.sleep_level}")


@dataclass(frozen=True, kw_only=True)
class OpenAISettings:
    """The `openai` backend's settings: a server you already run (vLLM, SGLang)."""

    base_url: str = "http://127.0.0.1:8000/v1"
    """The API root, ending in /v1."""
    api_key: str | None = None
    """Bearer token; None reads $OPENAI_API_KEY (local servers usually need none). Never stored
    with a run."""
    max_concurrent_requests: int = 8
    """Requests in flight at once (the server batches them)."""
    timeout_s: float = 600.0
    """Seconds to wait for one response."""
    max_retries: int = 2
    """Retries of a request that failed to connect or got 429/5xx, with a growing pause."""
    token_counts: Literal["logprobs", "usage"] = "logprobs"
    """`logprobs`: one request per prompt with `n` choices, counted from per-token logprobs;
    `usage`: one request per sample, counted from `usage.completion_tokens`."""

    def validate(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise InputError(
                f"engine.openai.base_url must start with http:// or https://, got {self.base_url!r}"
            )
        if self.max_concurrent_requests < 1:
            raise InputError("engine.openai.max_concurrent_requests must be at least 1")


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    """Which engine samples, from which model, and how."""

    backend: Backend = "transformers"
    """`transformers` (batched `generate`, CPU or one GPU; in srpo-train it samples from the policy
    itself), `vllm` (GPUs; colocated with the trainer in srpo-train) or `openai` (an
    OpenAI-compatible server; not for training)."""
    model: str | None = None
    """A local folder or hub id (openai: the served model name); `--model` sets it."""
    device: str = "auto"
    """transformers: `cpu`, `cuda`, `cuda:1`, ...; `auto` takes the GPU when there is one."""
    dtype: str = "auto"
    """transformers and vllm: `float32`, `bfloat16` or `float16`; `auto` is bfloat16 on a GPU and
    float32 on CPU (srpo-train samples in its training precision)."""
    batch_size: int = 16
    """transformers: sequences (prompts x samples) per `generate` call, which bounds the memory of
    padded batches; srpo-train also grades one call's rewards while the next generates."""
    trust_remote_code: bool = False
    """Allow model code from the checkpoint (only for models you trust)."""
    vllm: VLLMSettings = field(default_factory=VLLMSettings)
    openai: OpenAISettings = field(default_factory=OpenAISettings)

    def validate(self) -> None:
        if self.backend not in BACKENDS:
            raise InputError(f"engine.backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.batch_size < 1:
            raise InputError(f"engine.batch_size must be at least 1, got {self.batch_size}")
        if self.dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise InputError(f"engine.dtype must be auto, float32, bfloat16 or float16, got {self.dtype!r}")
        self.vllm.validate()
        self.openai.validate()

    def refuse_foreign_settings(self, defaults: EngineConfig | None = None) -> None:
        """Refuse settings of a backend other than the chosen one: they would silently do nothing.
        `defaults` is the command's own default engine section."""
        from srpo.config import to_dict

        defaults = defaults or EngineConfig()
        found = []
        for section in ("vllm", "openai"):
            if section != self.backend:
                mine, base = to_dict(getattr(self, section)), to_dict(getattr(defaults, section))
                found += [f"engine.{section}.{name}" for name in mine if mine[name] != base[name]]
        if self.backend != "transformers" and self.device != defaults.device:
            found.append("engine.device")
        if found:
            raise InputError(
                f"{', '.join(found)}: not a setting of the {self.backend} backend (engine.backend)"
            )

    def stored(self) -> dict[str, Any]:
        """The settings as stored with a run: everything but secrets."""
        from srpo.config import to_dict

        data = to_dict(self)
        data["openai"].pop("api_key", None)
        return data
