"""The real loop end to end on CPU: a taught tiny model, DeepSpeed ZeRO-2 over gloo, rollouts and
rewards, every rollout in the catalog per epoch, history resampling changing the next epoch, the
switch to stage 2, and a checkpoint + resume that gives the same epochs and the same losses."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace

import pytest

from srpo.config import to_dict
from srpo.train.resampling import next_epoch_plan
from srpo.train.trainer import train
from tests.helpers import run_cli

from .conftest import MATH_IDS, ids_by_index, make_catalog, query, read_jsonl, small_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(taught_model, tmp_path_factory):
    """Run `full` (6 steps), and run `cut`: 3 steps with checkpoints every 2 and none at the
    end (as if killed after step 3), then resumed to 6 steps."""
    tmp = tmp_path_factory.mktemp("loop")
    catalog = make_catalog(tmp)
    config = small_config(tmp / "out")
    full = train(catalog, str(taught_model), config, run_id="full")
    cut_config = replace(config, checkpoint=replace(config.checkpoint, at_end=False))
    first = train(catalog, str(taught_model), replace(cut_config, budget=replace(config.budget, max_steps=3)),
                  run_id="cut")  # fmt: skip
    resumed = train(catalog, str(taught_model), cut_config, resume="cut")
    return {"catalog": catalog, "config": config, "full": full, "cut": first, "resumed": resumed, "tmp": tmp}


def rollouts(catalog, run_id):
    names = ("epoch", "stage", "step", "problem_id", "sample_idx", "reward", "status", "response_tokens",
             "finish_reason", "response")  # fmt: skip
    rows = query(catalog, f"SELECT {', '.join(names)} FROM rollouts WHERE run_id = ? "
                          "ORDER BY step, problem_id, sample_idx", [run_id])  # fmt: skip
    return [dict(zip(names, row, strict=True)) for row in rows]


def epochs(catalog, run_id):
    found = defaultdict(list)
    for epoch, stage, problem_id, history in query(
        catalog, "SELECT epoch, stage, problem_id, history FROM epoch_problems WHERE run_id = ? "
        "ORDER BY epoch, position", [run_id]
    ):  # fmt: skip
        found[epoch].append((stage, problem_id, history))
    return dict(found)


def test_every_rollout_is_recorded_with_its_epoch_and_step(runs):
    catalog, report = runs["catalog"], runs["full"]
    assert (report.status, report.stop_reason, report.first_step, report.last_step) == (
        "completed",
        "max_steps",
        1,
        6,
    )
    rows = rollouts(catalog, "full")
    planned = epochs(catalog, "full")
    by_step = defaultdict(list)
    for row in rows:
        by_step[row["step"]].append(row)
    assert sorted(by_step) == [1, 2, 3, 4, 5, 6]
    for step_rows in by_step.values():
        problems = {r["problem_id"] for r in step_rows}
        assert len(step_rows) == 4 * len(problems) and 1 <= len(problems) <= 4
        [(epoch,)] = {(r["epoch"],) for r in step_rows}
        assert problems <= {pid for _, pid, _ in planned[epoch]}
    for epoch, members in planned.items():  # every problem of every epoch was trained on
        assert {pid for _, pid, _ in members} == {r["problem_id"] for r in rows if r["epoch"] == epoch}
    for row in rows:
        assert row["reward"] == (1.0 if row["status"] == "correct" else 0.0)
        assert row["finish_reason"] in ("stop", "length") and row["response_tokens"] > 0 and row["response"]


def test_history_resampling_drops_solved_problems_from_the_next_epoch(runs):
    catalog = runs["catalog"]
    ids = ids_by_index(catalog)
    planned = epochs(catalog, "full")
    assert {pid for _, pid, _ in planned[0]} == {ids[i] for i in MATH_IDS}  # stage 1: math only
    assert {history for _, _, history in planned[0]} == {"new"}
    outcome = defaultdict(list)
    for row in rollouts(catalog, "full"):
        if row["epoch"] == 0:
            outcome[row["problem_id"]].append(row["status"] == "correct")
    solved = {pid for pid, correct in outcome.items() if all(correct)}
    assert {ids[f"seven{i}"] for i in range(4)} <= solved  # the taught model always answers 7
    second = {pid: history for _, pid, history in planned[1]}
    assert set(second) == set(outcome) - solved  # dropped: all correct; kept: mixed and all wrong
    for pid, history in second.items():
        assert history == ("all_wrong" if not any(outcome[pid]) else "mixed")
    lines = read_jsonl(runs["full"].output_dir / "metrics.jsonl")
    assert [line["resample/dropped"] for line in lines if line["epoch"] == 1] == [len(solved)] * 1


def test_stage_two_starts_after_the_switch_and_adds_code(runs):
    catalog = runs["catalog"]
    [(stage, switch_step, reason)] = query(
        catalog, "SELECT stage, stage_switch_step, stage_switch_reason FROM runs WHERE run_id = 'full'"
    )
    assert (stage, switch_step, reason) == (2, 4, "steps") and runs["full"].stage_switch_step == 4
    rows = rollouts(catalog, "full")
    assert {r["stage"] for r in rows if r["step"] <= 4} == {1}
    assert {r["stage"] for r in rows if r["step"] > 4} == {2}
    code = ids_by_index(catalog)["code"]
    assert code not in {r["problem_id"] for r in rows if r["step"] <= 4}
    assert code in {r["problem_id"] for r in rows if r["step"] > 4}
    switch_epoch = next(r["epoch"] for r in rows if r["step"] == 5)
    assert switch_epoch == next(r["epoch"] for r in rows if r["step"] == 4) + 1  # the switch ends the epoch
    lines = read_jsonl(runs["full"].output_dir / "metrics.jsonl")
    assert [line.get("stage_switch") for line in lines] == [None, None, None, "steps", None, None]


def test_metrics_cover_rewards_lengths_loss_and_timings(runs):
    lines = read_jsonl(runs["full"].output_dir / "metrics.jsonl")
    assert [line["step"] for line in lines] == [1, 2, 3, 4, 5, 6]
    keys = {"reward/mean", "reward/std", "reward/math/mean", "frac_reward_zero_std", "response_length/mean",
            "response_length/max", "response_length/clipped_ratio", "clip_fraction", "kl", "entropy",
            "grad_norm", "learning_rate", "resample/kept", "resample/dropped", "stage", "samples_per_s",
            "tokens_per_s", "time/generate_s", "time/reward_s", "time/train_s", "time/write_s", "loss",
            "accuracy/mean", "accuracy/math", "accuracy/code", "response_length/math/mean",
            "response_length/code/mean", "response_length/correct/mean", "response_length/wrong/mean",
            "sampling/logp_diff/mean", "sampling/logp_diff/max", "sampling/is_ratio/mean",
            "sampling/is_capped_frac", "sampling/is_masked_frac"}  # fmt: skip
    for line in lines:
        assert keys <= set(line)
        assert line["accuracy/mean"] == pytest.approx(line["reward/mean"])  # no format bonus here
        assert line["sampling/logp_diff/mean"] < 1e-4  # the transformers engine samples the policy
        assert 0 <= line["frac_reward_zero_std"] <= 1 and line["learning_rate"] == pytest.approx(1e-4)
        assert line["time/generate_s"] + line["time/train_s"] <= line["time/step_s"]
        assert line["optimiser_steps"] == 2
    assert any(line["kl"] > 0 for line in lines[1:])  # the policy moved away from the reference
    assert "reward/code/mean" in lines[-1]


def test_the_run_row_the_checkpoint_and_the_exported_model(runs):
    from transformers import AutoModelForCausalLM

    catalog, report = runs["catalog"], runs["full"]
    [(kind, status, config, checkpoint, notes)] = query(
        catalog, "SELECT kind, status, config, checkpoint, notes FROM runs WHERE run_id = 'full'"
    )
    assert (kind, status) == ("train", "completed")
    expected = to_dict(replace(runs["config"], output_dir=str(report.output_dir)))
    assert json.loads(config) == expected  # printed and stored with the run
    assert checkpoint.endswith("step-0000006") and json.loads(notes)["stop_reason"] == "max_steps"
    model = AutoModelForCausalLM.from_pretrained(report.output_dir / "model")
    assert model.config.model_type == "qwen2"


def test_resume_continues_with_the_same_epochs_and_losses(runs):
    catalog, first, resumed = runs["catalog"], runs["cut"], runs["resumed"]
    assert first.last_step == 3 and resumed.resumed_from.endswith("step-0000002")
    assert (resumed.first_step, resumed.last_step) == (3, 6)
    step3 = [r for r in rollouts(catalog, "full") if r["step"] == 3]
    assert resumed.rollouts_forgotten == len(step3)  # step 3 came after the checkpoint: redone
    full_rows = rollouts(catalog, "full")
    cut_rows = [r for r in rollouts(catalog, "cut") if r["step"] <= 6]  # the last test extends it
    assert len(cut_rows) == len(full_rows)
    strip = ("epoch", "stage", "step", "problem_id", "sample_idx", "reward", "status", "response")
    assert [tuple(r[k] for k in strip) for r in cut_rows] == [tuple(r[k] for k in strip) for r in full_rows]
    assert {k: v for k, v in epochs(catalog, "cut").items() if k <= 4} == epochs(catalog, "full")
    full_lines = read_jsonl(runs["full"].output_dir / "metrics.jsonl")
    cut_lines = read_jsonl(runs["resumed"].output_dir / "metrics.jsonl")[:6]
    assert [line["step"] for line in cut_lines] == [1, 2, 3, 4, 5, 6]  # step 3 once, not twice
    for ours, theirs in zip(cut_lines, full_lines, strict=True):
        for key in ("loss", "grad_norm", "kl", "entropy", "reward/mean", "accuracy/mean"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-5, abs=1e-9), (ours["step"], key)
        assert set(ours) == set(theirs)  # the same keys before and after the resume
        resample = sorted(key for key in theirs if key.startswith("resample/"))
        assert len(resample) == 8 and [ours[k] for k in resample] == [theirs[k] for k in resample], ours[
            "step"
        ]
    assert any(abs(line["loss"]) > 1e-6 for line in full_lines)  # the comparison is not of zeros
    with catalog.reader() as con:
        assert next_epoch_plan(con, "cut").problems == next_epoch_plan(con, "full").problems


def test_next_epoch_query_shows_what_the_trainer_trains_next(runs, taught_model):
    catalog = runs["catalog"]
    result = run_cli("query", "--next-epoch", "cut", "--catalog", str(catalog.path), "-f", "jsonl")
    assert result.returncode == 0, result.stderr
    shown = [json.loads(line) for line in result.stdout.splitlines()]
    assert (
        "trains on" in result.stderr
        and shown
        and [row["position"] for row in shown] == list(range(len(shown)))
    )
    [(epoch,)] = query(catalog, "SELECT epoch FROM runs WHERE run_id = 'cut'")
    # Resume for one more step: it starts the next epoch, which must be exactly the set shown.
    config = replace(runs["config"], budget=replace(runs["config"].budget, max_steps=7))
    train(
        catalog,
        str(taught_model),
        replace(config, checkpoint=replace(config.checkpoint, at_end=False)),
        resume="cut",
    )
    trained = epochs(catalog, "cut")[epoch + 1]
    assert [pid for _, pid, _ in trained] == [row["problem_id"] for row in shown]
    assert [history for _, _, history in trained] == [row["history"] for row in shown]
