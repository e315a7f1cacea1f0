"""The vLLM engine. It runs for real where vLLM is installed (a GPU machine, or the opt-in
`just vllm-cpu-smoke` environment); elsewhere the generation tests are skipped, never faked."""

from __future__ import annotations

import importlib.util

import pytest

from srpo.errors import InputError, MissingDependencyError
from srpo.rollout import SamplingConfig, create_engine, engine_config
from srpo.rollout.prompts import build_prompt
from srpo.rollout.vllm_engine import VLLMEngineConfig

HAS_VLLM = importlib.util.find_spec("vllm") is not None
needs_vllm = pytest.mark.skipif(
    not HAS_VLLM,
    reason="vLLM is not installed here (pip install 'srpo[vllm]' on a GPU, or `just vllm-cpu-smoke`)",
)


def test_llm_arguments_come_from_the_config():
    config = VLLMEngineConfig(
        model="m", tensor_parallel_size=2, gpu_memory_utilization=0.4, max_model_len=4096,
        enable_sleep_mode=True, extra_args={"swap_space": 2},
    )  # fmt: skip
    kwargs = config.llm_kwargs()
    assert kwargs["tensor_parallel_size"] == 2 and kwargs["gpu_memory_utilization"] == 0.4
    assert (
        kwargs["max_model_len"] == 4096 and kwargs["enable_sleep_mode"] is True and kwargs["swap_space"] == 2
    )
    assert "distributed_executor_backend" not in kwargs
    with pytest.raises(InputError, match=r"engine\.vllm\.gpu_memory_utilization"):
        VLLMEngineConfig(model="m", gpu_memory_utilization=1.5).validate()


@pytest.mark.skipif(HAS_VLLM, reason="checks the message shown when vLLM is missing")
def test_missing_vllm_is_a_clear_error(tiny_model):
    with pytest.raises(MissingDependencyError, match="the vllm backend needs vLLM"):
        create_engine(engine_config("vllm", model=str(tiny_model)))


@needs_vllm
def test_vllm_generates_n_samples_with_the_same_shapes(taught_model):
    with create_engine(engine_config("vllm", model=str(taught_model), dtype="float32")) as engine:
        [completion] = engine.generate(
            [build_prompt(question="What is 3 + 4?", domain="math")], SamplingConfig(n=3, max_new_tokens=24)
        )
    assert [s.text for s in completion.samples] == ["The answer is \\boxed{7}."] * 3
    assert all(s.finish_reason == "stop" and s.token_count == len(s.token_ids) for s in completion.samples)
