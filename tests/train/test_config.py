"""The training config: files, --set overrides, types and checks."""

from __future__ import annotations

import pytest

from srpo.config import load_config, to_dict
from srpo.errors import InputError
from srpo.train.config import TrainConfig


def test_yaml_and_overrides_build_the_nested_config(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(
        "seed: 7\noptim:\n  learning_rate: 1e-6\nsampling:\n  n: 16\nprompt:\n  kind: plain\n"
        "objective:\n  loss_aggregation: sequence\ndata:\n  difficulties: [hard]\n"
    )
    config = load_config(TrainConfig, path, ["objective.kl_coef=0.001", "deepspeed.zero_stage=3"])
    assert config.seed == 7 and config.optim.learning_rate == 1e-6  # "1e-6" is a string in YAML
    assert config.sampling.n == 16 and config.prompt.kind == "plain"
    assert config.objective.loss_aggregation == "sequence" and config.objective.kl_coef == 0.001
    assert config.deepspeed.zero_stage == 3 and config.data.difficulties == ("hard",)
    config.validate()
    assert to_dict(config)["prompt"]["kind"] == "plain"
    # The stored form builds the same config back (resume reads it from runs.config).
    assert load_config(TrainConfig, base=to_dict(config)) == config


def test_toml_works_too(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text("[budget]\nmax_steps = 12\n[stages]\nswitch_after_steps = 5\n")
    config = load_config(TrainConfig, path)
    assert config.budget.max_steps == 12 and config.stages.switch_after_steps == 5


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sampling.m=4", "unknown setting sampling.m"),
        ("objective.loss_aggregation=mean", "expected one of"),
        ("sampling.n=1", r"the group size\) must be at least 2"),
        ("deepspeed.zero_stage=4", "zero_stage must be 0, 1, 2 or 3"),
        ("data.difficulties=[trivial]", "unknown value 'trivial'"),
        ("data.code_share=1.5", "code_share must be in"),
        ("stages.start_stage=3", "start_stage must be 1 or 2"),
    ],
)
def test_bad_settings_are_one_line_errors(override, message):
    with pytest.raises(InputError, match=message):
        load_config(TrainConfig, None, [override]).validate()


def test_renamed_settings_are_refused_with_their_new_name_and_migrated_when_stored(tmp_path):
    from srpo.train.config import RENAMED

    with pytest.raises(InputError, match=r"rollout\.group_size is now called sampling\.n"):
        load_config(TrainConfig, None, ["rollout.group_size=4"], renamed=RENAMED)
    path = tmp_path / "old.yaml"
    path.write_text("schedule:\n  max_steps: 5\n")
    with pytest.raises(InputError, match=r"schedule\.max_steps is now called budget\.max_steps"):
        load_config(TrainConfig, path, renamed=RENAMED)
    # A config stored with a run by an earlier srpo still resumes.
    stored = {"rollout": {"group_size": 4, "prompts_per_step": 2, "vllm_sleep_level": 1},
              "reward": {"workers": 1, "format_reward": 0.1}, "schedule": {"max_steps": 9}}  # fmt: skip
    config = load_config(TrainConfig, base=stored, renamed=RENAMED)
    assert (config.sampling.n, config.data.prompts_per_step, config.engine.vllm.sleep_level) == (4, 2, 1)
    assert (config.grader.workers, config.reward.format_reward, config.budget.max_steps) == (1, 0.1, 9)


def test_setting_one_key_of_a_section_keeps_the_trainers_own_defaults():
    # srpo-train's sections differ from the section types' defaults (8 samples per group, less
    # of the GPU for a colocated vLLM): one key set must not reset the others to the type's.
    config = load_config(TrainConfig, None, ["sampling.temperature=0.6", "engine.batch_size=256"])
    assert (config.sampling.n, config.sampling.temperature) == (8, 0.6)
    assert (config.engine.batch_size, config.engine.vllm.gpu_memory_utilization) == (256, 0.4)
    config.validate()
