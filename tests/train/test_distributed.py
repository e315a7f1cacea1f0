"""DeepSpeed settings that must work on a single CPU process: optimiser offload with DeepSpeed's
CPU Adam or torch's AdamW, and ZeRO-3 generation with the parameters gathered once."""

from __future__ import annotations

import pytest
import torch

from srpo.train import distributed
from srpo.train.tokens import pack, token_logprobs
from tests.train.conftest import small_config

pytestmark = pytest.mark.slow


def engine_for(model_dir, tmp_path, *overrides):
    from transformers import AutoModelForCausalLM

    distributed.init_processes()
    config = small_config(tmp_path, *overrides)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    return distributed.build_engine(model, config), config


def one_step(engine, zero_stage: int = 2) -> float:
    """One optimiser step on a fixed sequence; returns how far the weights moved."""

    def weights() -> list[torch.Tensor]:
        with distributed.gathered(engine.module, zero_stage):
            return [p.detach().clone() for p in engine.module.parameters()]

    before = weights()
    packed = pack([[5, 9, 13]], [[30, 31, 32, 33]], pad_id=0)
    engine.train()
    logprobs, _ = token_logprobs(engine, packed, temperature=1.0)
    engine.backward(-(logprobs * packed.response_mask).sum(), scale_wrt_gas=False)
    engine.step()
    return sum(float((p - b).abs().sum()) for p, b in zip(weights(), before, strict=True))


@pytest.mark.parametrize("cpu_adam", [True, False], ids=["deepspeed-cpu-adam", "torch-adamw"])
def test_optimiser_offload_starts_and_steps(tiny_model, tmp_path, cpu_adam):
    engine, config = engine_for(
        tiny_model,
        tmp_path,
        "deepspeed.offload_optimizer=true",
        f"deepspeed.cpu_adam={str(cpu_adam).lower()}",
    )
    settings = distributed.deepspeed_config(config)
    assert settings["zero_optimization"]["offload_optimizer"] == {"device": "cpu"}
    assert settings.get("zero_force_ds_cpu_optimizer", True) is cpu_adam
    name = type(engine.optimizer.optimizer).__name__
    assert name == ("DeepSpeedCPUAdam" if cpu_adam else "AdamW")
    assert one_step(engine) > 0


def test_offload_without_zero_is_refused_in_one_line(tmp_path):
    from srpo.errors import InputError

    with pytest.raises(InputError, match=r"offload_optimizer needs deepspeed\.zero_stage 1, 2 or 3"):
        small_config(tmp_path, "deepspeed.offload_optimizer=true", "deepspeed.zero_stage=0").validate()


def test_zero3_generation_gathers_once_and_decodes_without_module_hooks(tiny_model, tmp_path):
    from transformers import AutoTokenizer

    from srpo.rollout import SamplingConfig
    from srpo.rollout.prompts import build_prompt
    from srpo.rollout.transformers_engine import TransformersEngine

    engine, _ = engine_for(tiny_model, tmp_path, "deepspeed.zero_stage=3")
    offload = engine.optimizer.parameter_offload
    calls = []
    fetch = offload.pre_sub_module_forward_function
    offload.pre_sub_module_forward_function = lambda module: (calls.append(module), fetch(module))[1]
    rollout = TransformersEngine.from_model(engine.module, AutoTokenizer.from_pretrained(tiny_model))
    prompt = build_prompt(question="What is 3 + 4?", domain="math")
    engine.module.eval()
    with distributed.whole_for_generation(engine, 3) as module:
        assert all(p.numel() > 0 for p in module.parameters())  # whole on this rank
        [completion] = rollout.generate([prompt], SamplingConfig(n=2, max_new_tokens=12, seed=1))
    assert calls == [] and all(sample.token_ids for sample in completion.samples)
    assert offload.forward_hooks and offload.backward_hooks  # put back
    assert all(p.numel() == 0 for p in engine.module.parameters())  # partitioned again
    assert one_step(engine, 3) > 0 and calls  # training gathers through the hooks again


def test_a_group_joined_for_a_run_is_left_after_it_and_one_found_is_kept(tiny_model, tmp_path):
    # A process that exits still in a gloo group can abort on its way out, so a run leaves the
    # group it joined; a group the caller made before is the caller's and stays.
    distributed.leave_processes(finished=True)  # start from no group
    with distributed.processes():
        with distributed.processes():
            assert torch.distributed.is_initialized()
        assert torch.distributed.is_initialized()  # the inner block found the group: kept
        engine, _ = engine_for(tiny_model, tmp_path)
        assert one_step(engine) > 0
    assert not torch.distributed.is_initialized()
    with pytest.raises(RuntimeError, match="a failing run"), distributed.processes():
        raise RuntimeError("a failing run")
    assert not torch.distributed.is_initialized()
    engine, _ = engine_for(tiny_model, tmp_path)  # DeepSpeed works in a second group of the process
    assert one_step(engine) > 0


def test_a_launch_that_fails_leaves_the_group_it_joined(tiny_model, tmp_path):
    from srpo.errors import CatalogError
    from srpo.train.launch import launch

    distributed.leave_processes(finished=True)  # start from no group
    with pytest.raises(CatalogError, match="no catalog there"):
        launch(catalog_path=tmp_path / "absent.duckdb", model=str(tiny_model), config_path=None)
    assert not torch.distributed.is_initialized()
