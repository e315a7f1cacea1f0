"""The three sampling modes on the real loop (taught tiny model, DeepSpeed on CPU): uniform keeps
solved problems, dynamic sampling records the groups it leaves out and resumes where it stopped,
and the rollout budget and the rollout-count stage switch hold."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import pytest

from srpo.train.trainer import train

from .conftest import ids_by_index, make_catalog, query, read_jsonl, small_config

pytestmark = pytest.mark.slow
GROUP = 4


def config_for(output, *overrides):
    return small_config(output, "objective.kl_coef=0", "stages.switch_after_steps=null", *overrides)


@pytest.fixture(scope="module")
def runs(taught_model, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("modes")
    catalog = make_catalog(tmp)
    model = str(taught_model)
    dynamic = config_for(
        tmp / "out", "data.sampling=dynamic", "data.prompts_per_step=2", "budget.max_steps=4"
    )
    reports = {"dynamic": train(catalog, model, dynamic, run_id="dynamic")}
    cut = replace(dynamic, checkpoint=replace(dynamic.checkpoint, at_end=False))
    reports["cut"] = train(
        catalog, model, replace(cut, budget=replace(cut.budget, max_steps=3)), run_id="cut"
    )
    reports["resumed"] = train(catalog, model, cut, resume="cut")
    uniform = config_for(tmp / "out", "data.sampling=uniform", "budget.max_rollouts=120", "budget.max_steps=30",
                         "stages.switch_after_rollouts=64")  # fmt: skip
    reports["uniform"] = train(catalog, model, uniform, run_id="uniform")
    return {"catalog": catalog, **reports}


def rollouts(catalog, run_id):
    names = ("epoch", "stage", "step", "problem_id", "sample_idx", "status", "trained")
    rows = query(catalog, f"SELECT {', '.join(names)} FROM rollouts WHERE run_id = ? "
                          "ORDER BY step, problem_id, sample_idx", [run_id])  # fmt: skip
    return [dict(zip(names, row, strict=True)) for row in rows]


def test_dynamic_sampling_trains_only_on_groups_with_right_and_wrong_answers(runs):
    catalog = runs["catalog"]
    rows = rollouts(catalog, "dynamic")
    by_group = defaultdict(list)
    for row in rows:
        by_group[(row["epoch"], row["problem_id"])].append(row)
    ids = ids_by_index(catalog)
    trained_problems = set()
    for (_, problem_id), group in by_group.items():
        assert len(group) == GROUP and len({r["trained"] for r in group}) == 1
        correct = sum(r["status"] == "correct" for r in group)
        assert group[0]["trained"] == (0 < correct < GROUP)
        if group[0]["trained"]:
            trained_problems.add(problem_id)
    assert trained_problems <= {ids["coin"]}  # the sevens are always right, the eights always wrong
    assert any(not r["trained"] for r in rows)
    lines = read_jsonl(runs["dynamic"].output_dir / "metrics.jsonl")
    assert [line["step"] for line in lines] == [1, 2, 3, 4]
    for line in lines:
        assert 1 <= line["rollouts/rounds"] <= 3  # data.dynamic_max_rounds, the default
        assert line["rollouts/generated"] % GROUP == 0 and line["rollouts/generated"] > 0
        step_rows = [r for r in rows if r["step"] == line["step"]]
        assert line["rollouts/generated"] == len(step_rows)
        assert line["rollouts/trained"] == sum(r["trained"] for r in step_rows)
    assert lines[-1]["rollouts/generated_total"] == len(rows)
    assert lines[-1]["rollouts/trained_total"] == sum(r["trained"] for r in rows)
    assert lines[-1]["rollouts/generated_total"] > lines[-1]["rollouts/trained_total"]


def test_dynamic_sampling_takes_the_epochs_problems_in_order_each_once(runs):
    catalog = runs["catalog"]
    planned = defaultdict(list)
    for epoch, problem_id in query(catalog, "SELECT epoch, problem_id FROM epoch_problems "
                                            "WHERE run_id = 'dynamic' ORDER BY epoch, position"):  # fmt: skip
        planned[epoch].append(problem_id)
    taken = defaultdict(list)
    for epoch, problem_id in query(catalog, "SELECT epoch, problem_id FROM rollouts WHERE run_id = 'dynamic' "
                                            "GROUP BY ALL ORDER BY min(step), min(created_at)"):  # fmt: skip
        taken[epoch].append(problem_id)
    for epoch, problems in taken.items():
        assert sorted(problems) == sorted(planned[epoch][: len(problems)])  # a prefix, no repeats


def test_a_resumed_dynamic_run_continues_where_it_stopped(runs):
    catalog, resumed = runs["catalog"], runs["resumed"]
    assert resumed.resumed_from.endswith("step-0000002") and resumed.last_step == 4
    strip = ("epoch", "stage", "step", "problem_id", "sample_idx", "status", "trained")
    full = [tuple(r[k] for k in strip) for r in rollouts(catalog, "dynamic")]
    assert [tuple(r[k] for k in strip) for r in rollouts(catalog, "cut")] == full


def test_uniform_keeps_solved_problems_within_the_rollout_budget(runs):
    catalog, report = runs["catalog"], runs["uniform"]
    rows = rollouts(catalog, "uniform")
    # Steps of 4 problems x 4 samples, 3 at the end of a stage-1 epoch of 7 problems; stage 2
    # adds the code problem (epochs of 8): 16 12 16 12 16 | 16 16 16, and a ninth would pass 120.
    assert report.stop_reason == "max_rollouts" and len(rows) == 120
    assert all(r["trained"] for r in rows)
    histories = {h for (h,) in query(catalog, "SELECT DISTINCT history FROM epoch_problems "
                                             "WHERE run_id = 'uniform' AND epoch = 1")}  # fmt: skip
    assert "solved" in histories  # plain GRPO: solved problems come back every epoch
    lines = read_jsonl(report.output_dir / "metrics.jsonl")
    switch = [line["step"] for line in lines if line.get("stage_switch")]
    assert (
        switch == [5]
        and lines[4]["stage_switch"] == "rollouts"
        and lines[4]["rollouts/generated_total"] == 72
    )
    assert lines[-1]["rollouts/generated_total"] == lines[-1]["rollouts/trained_total"] == 120
