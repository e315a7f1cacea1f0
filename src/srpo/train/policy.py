"""The policy being trained, its frozen reference, and the engine that samples from it.

`load_policy` reads the model and tokenizer and wraps the model in DeepSpeed. `load_reference`
gives the frozen initial model for the KL term (sharded the same way under ZeRO-3).
`RolloutSide` holds the rollout engine: with the `transformers` backend it samples from the
policy's own module (under ZeRO-3 the parameters are gathered once per generation and
DeepSpeed's per-module hooks are off while it decodes), so nothing is copied; with `vllm` it
is a vLLM running in the training process (never a separate engine process: srpo sets that up
itself), that may sleep during the update (level 1 or 2) and receives the new weights,
streamed, after the optimiser steps of every batch.

Covers: loading and the colocated engine's life cycle. Does not cover: the engines themselves.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.train import distributed

if TYPE_CHECKING:
    from srpo.train.config import TrainConfig


@dataclass(slots=True)
class Policy:
    engine: Any
    """The DeepSpeed engine; `engine.module` is the Hugging Face model."""
    tokenizer: Any
    pad_id: int
    reference: Any = None
    """The frozen initial model (only when objective.kl_coef > 0)."""


def load_policy(model_path: str, config: TrainConfig) -> Policy:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = getattr(torch, distributed.training_dtype(config))
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
    if config.deepspeed.gradient_checkpointing:
        # Non-reentrant checkpointing (transformers' default only from 5.0) needs no input that
        # requires grad and re-runs ZeRO-3's gathering hooks in the recomputation.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    reference = load_reference(model_path, config) if config.objective.kl_coef > 0 else None
    return Policy(distributed.build_engine(model, config), tokenizer, pad_id, reference)


def load_reference(model_path: str, config: TrainConfig) -> Any:
    """The frozen initial policy for the KL term (sharded like the policy under ZeRO-3)."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = getattr(torch, distributed.training_dtype(config))
    reference = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype)
    reference.requires_grad_(False)
    if config.deepspeed.zero_stage == 3:
        import deepspeed

        settings = distributed.deepspeed_config(config)
        settings.pop("gradient_clipping", None)
        settings["zero_optimization"].pop("offload_optimizer", None)  # it has no optimiser
        reference, *_ = deepspeed.initialize(model=reference, config=settings)
    else:
        reference.to(distributed.device())
    reference.eval()
    return reference


class RolloutSide:
    """The rollout engine next to the policy, and when it gets the policy's weights."""

    def __init__(self, policy: Policy, config: TrainConfig, *, model_path: str) -> None:
        self.policy = policy
        self.config = config
        self.vllm = config.engine.backend == "vllm"
        self.engine = self._open(model_path)

    def _open(self, model_path: str) -> Any:
        engine = self.config.engine
        if not self.vllm:
            from srpo.rollout.transformers_engine import TransformersEngine

            module, tokenizer = self.policy.engine.module, self.policy.tokenizer
            return TransformersEngine.from_model(module, tokenizer, batch_size=engine.batch_size)
        from srpo.rollout.vllm_engine import VLLMEngine, VLLMEngineConfig

        return VLLMEngine(
            VLLMEngineConfig(
                model=model_path,
                tensor_parallel_size=engine.vllm.tensor_parallel_size,
                gpu_memory_utilization=engine.vllm.gpu_memory_utilization,
                dtype=distributed.training_dtype(self.config),
                max_model_len=engine.vllm.max_model_len,
                enable_prefix_caching=engine.vllm.enable_prefix_caching,
                enable_sleep_mode=engine.vllm.sleep_level is not None,
                enforce_eager=engine.vllm.enforce_eager,
                trust_remote_code=engine.trust_remote_code,
                distributed_executor_backend="external_launcher" if distributed.world_size() > 1 else None,
                in_process=True,  # the weight sync reaches vLLM's model directly, a tensor at a time
                seed=self.config.seed,
                extra_args=dict(engine.vllm.extra_args),
            )
        )

    def generating(self) -> contextlib.AbstractContextManager:
        """Around generation: the policy in eval mode, whole under ZeRO-3 when it samples itself."""
        self.policy.engine.module.eval()
        if self.vllm:
            return contextlib.nullcontext()
        return distributed.whole_for_generation(self.policy.engine, self.config.deepspeed.zero_stage)

    def after_generation(self) -> None:
        """Free vLLM's memory for the update, when configured to."""
        if self.vllm and self.config.engine.vllm.sleep_level is not None:
            self.engine.sleep(self.config.engine.vllm.sleep_level)

    def sync(self) -> None:
        """After the optimiser steps (or a resume): the policy's weights into vLLM, streamed one
        tensor at a time (under ZeRO-3, one parameter gathered at a time). An asleep engine gets
        memory for its weights first, and for its KV cache only once they are loaded, so the
        cache never sits beside the gathered parameters."""
        if not self.vllm:
            return  # the transformers engine samples from the policy itself
        self.engine.wake_up(["weights"])
        zero_stage = self.config.deepspeed.zero_stage
        self.engine.update_weights(distributed.named_weights(self.policy.engine.module, zero_stage))
        self.engine.wake_up(["kv_cache"])

    def close(self) -> None:
        self.engine.close()
