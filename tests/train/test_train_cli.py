"""`srpo-train` as a user runs it (config file, --set, --resume, errors), the other ZeRO stages and
bf16, and two processes under torchrun with gloo."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from srpo.train.trainer import train
from tests.helpers import run_cli

from .conftest import make_catalog, query, read_jsonl, small_config

pytestmark = pytest.mark.slow

CONFIG_YAML = """\
seed: 3
output_dir: {out}/{{run_id}}
data:
  include_unrated: true
  prompts_per_step: 4
sampling:
  n: 4
  max_new_tokens: 16
optim:
  learning_rate: 1e-4
grader:
  workers: 1
budget:
  max_steps: 2
checkpoint:
  every_steps: 1
  save_model: false
"""


def train_cli(*args: str, timeout: float = 300):
    return run_cli(*args, module="srpo.cli.train", timeout=timeout)


def test_train_command_runs_resumes_and_refuses_bad_input(taught_model, tmp_path):
    catalog = make_catalog(tmp_path)
    config = tmp_path / "train.yaml"
    config.write_text(CONFIG_YAML.format(out=tmp_path / "out"))
    base = ("--from-catalog", str(catalog.path), "--config", str(config))
    result = train_cli(
        *base, "--model", str(taught_model), "--run-id", "cli", "--set", "objective.loss_aggregation=sequence"
    )
    assert result.returncode == 0, result.stderr
    assert "loss_aggregation: sequence" in result.stderr  # the config is printed
    assert "step 1 · epoch 0 · stage 1 · reward" in result.stderr and "step 2 ·" in result.stderr
    assert "run cli: completed (max_steps), steps 1-2" in result.stderr
    assert query(catalog, "SELECT count(*) FROM rollouts WHERE run_id = 'cli'") == [(28,)]  # 4 + 3 problems

    resumed = train_cli(
        "--from-catalog", str(catalog.path), "--resume", "cli", "--set", "budget.max_steps=3", "-q"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "run cli: completed (max_steps), steps 3-3" in resumed.stderr
    assert [line["step"] for line in read_jsonl(tmp_path / "out" / "cli" / "metrics.jsonl")] == [1, 2, 3]
    [(config_json, step)] = query(catalog, "SELECT config, step FROM runs WHERE run_id = 'cli'")
    assert json.loads(config_json)["objective"]["loss_aggregation"] == "sequence" and step == 3

    changed = train_cli("--from-catalog", str(catalog.path), "--resume", "cli", "--set", "sampling.n=8")
    assert changed.returncode == 2 and "the run was started with sampling =" in changed.stderr
    assert "Traceback" not in changed.stderr
    again = train_cli(*base, "--model", str(taught_model), "--run-id", "cli")
    assert again.returncode == 2 and "a run with that id exists; use --resume" in again.stderr
    unknown = train_cli(*base, "--model", str(taught_model), "--set", "sampling.m=8")
    assert unknown.returncode == 2 and "unknown setting sampling.m" in unknown.stderr
    missing = train_cli(*base)
    assert missing.returncode == 2 and "--model is required" in missing.stderr


@pytest.mark.parametrize(
    "overrides",
    [
        ("deepspeed.zero_stage=0", "deepspeed.gradient_checkpointing=true"),
        ("deepspeed.zero_stage=3", "deepspeed.gradient_checkpointing=true"),
        ("deepspeed.dtype=bfloat16", "deepspeed.zero_stage=1", "deepspeed.gradient_checkpointing=true"),
        (
            "deepspeed.zero_stage=2",
            "deepspeed.gradient_checkpointing=true",
            "deepspeed.offload_optimizer=true",
        ),
    ],
    ids=["zero0", "zero3", "bf16-zero1", "zero2-offload"],
)
def test_other_zero_stages_and_bf16_train(taught_model, tmp_path, overrides):
    """Every ZeRO stage with gradient checkpointing, bf16, and optimiser offload (CPU Adam)."""
    from transformers import AutoModelForCausalLM

    catalog = make_catalog(tmp_path)
    config = small_config(tmp_path / "out", "budget.max_steps=2", *overrides)
    report = train(catalog, str(taught_model), config, run_id="z")
    assert (report.status, report.last_step) == ("completed", 2)
    lines = read_jsonl(report.output_dir / "metrics.jsonl")
    assert all(abs(line["loss"]) < 10 and line["grad_norm"] >= 0 for line in lines)
    assert lines[1]["grad_norm"] > 0 and lines[1]["kl"] > 0  # a real update happened
    assert query(catalog, "SELECT count(*) FROM rollouts WHERE run_id = 'z'") == [(28,)]  # 4 + 3 problems x 4
    exported = AutoModelForCausalLM.from_pretrained(report.output_dir / "model")  # gathered from the shards
    assert exported.num_parameters() == AutoModelForCausalLM.from_pretrained(taught_model).num_parameters()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_processes_under_torchrun(taught_model, tmp_path):
    catalog = make_catalog(tmp_path)
    config = tmp_path / "train.yaml"
    config.write_text(CONFIG_YAML.format(out=tmp_path / "out"))
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(_free_port()),
        "-m", "srpo.cli.train", "--from-catalog", str(catalog.path), "--model", str(taught_model),
        "--config", str(config), "--run-id", "two", "--set", "budget.max_steps=3", "--set", "objective.kl_coef=0.1",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("run two: completed") == 1  # rank 0 reports
    per_step = query(catalog, "SELECT step, count(*), count(DISTINCT problem_id) FROM rollouts "
                              "WHERE run_id = 'two' GROUP BY step ORDER BY step")  # fmt: skip
    # 7 math problems: 4 + 3 in epoch 0 (split over the ranks), then the unsolved ones.
    assert (
        [row[0] for row in per_step] == [1, 2, 3]
        and per_step[0][1:] == (16, 4)
        and per_step[1][1:] == (12, 3)
    )
    assert all(count == 4 * problems for _, count, problems in per_step)
    assert [line["step"] for line in read_jsonl(tmp_path / "out" / "two" / "metrics.jsonl")] == [1, 2, 3]


def test_checks_that_need_no_data_fail_before_the_catalog_is_touched(tiny_model, tmp_path):
    """A base model's tokenizer (no chat template), a missing model folder and a bad setting are
    refused before the catalog is opened or the config printed: the catalog here does not exist."""
    import shutil

    base = tmp_path / "base"
    shutil.copytree(tiny_model, base)
    (base / "chat_template.jinja").unlink()
    nowhere = ("--from-catalog", str(tmp_path / "none.duckdb"))
    no_template = train_cli(*nowhere, "--model", str(base))
    assert no_template.returncode == 1, no_template.stderr
    assert "no chat template" in no_template.stderr and "--set prompt.kind=plain" in no_template.stderr
    assert "catalog" not in no_template.stderr and "sampling:" not in no_template.stderr  # nothing else ran
    assert len(no_template.stderr.strip().splitlines()) == 1

    missing = train_cli(*nowhere, "--model", str(tmp_path / "no-model"))
    assert missing.returncode == 2 and f"--model {tmp_path / 'no-model'}: no such folder" in missing.stderr
    bad = train_cli(*nowhere, "--model", str(base), "--set", "sampling.n=1")
    assert bad.returncode == 2 and "sampling.n (the group size) must be at least 2" in bad.stderr

    # With the setting the error names, the checks pass and the next problem is the catalog.
    plain = train_cli(*nowhere, "--model", str(base), "--set", "prompt.kind=plain")
    assert (
        plain.returncode == 1
        and f"--from-catalog {tmp_path / 'none.duckdb'}: no catalog there" in plain.stderr
    )
