"""The catalog record of a peer run: sample numbering, epochs that record what the trainer drew
(with each problem's history), continuing a run, refusing a run that would change meaning,
and reading a trainer's ground truth."""

from __future__ import annotations

import json

import pytest

from srpo.errors import InputError
from srpo.integrations.config import RunConfig, load_run_config
from srpo.integrations.epochs import follow_epoch, start_epoch
from srpo.integrations.recorder import Completion, RunRecorder
from srpo.integrations.scoring import Target, target_from_label
from srpo.train.config import DataConfig

from .conftest import problem_ids, query


def _config(catalog, **settings) -> RunConfig:
    return RunConfig(catalog=str(catalog.path), write_interval_s=3600.0, data=DataConfig(include_unrated=True),
                     **settings)  # fmt: skip


def _done(pid: str, ok: bool, **fields) -> Completion:
    return Completion(
        problem_id=pid, domain="math", reward=float(ok), status="correct" if ok else "wrong", **fields
    )


def test_epochs_the_trainer_chose_are_recorded_with_their_history(toy_catalog):
    ids = problem_ids(toy_catalog)
    seven, eight, coin = ids["seven0"], ids["eight0"], ids["coin"]
    recorder = RunRecorder(_config(toy_catalog, run_id="peer"), kind="openrlhf", group_size=2)
    # Visits: a problem's first two completions are epoch 0, the next two epoch 1.
    recorder.record([_done(seven, True), _done(seven, True), _done(eight, False), _done(coin, True)])
    recorder.record([_done(eight, False), _done(coin, False), _done(seven, True), _done(eight, True)])
    assert query(toy_catalog, "SELECT count(*) FROM rollouts") == [(0,)]  # buffered until a flush
    recorder.flush()
    rows = query(toy_catalog, "SELECT problem_id, epoch, sample_idx, status FROM rollouts ORDER BY 1, 2, 3")
    assert sorted(rows) == sorted([
        (seven, 0, 0, "correct"), (seven, 0, 1, "correct"), (seven, 1, 0, "correct"),
        (eight, 0, 0, "wrong"), (eight, 0, 1, "wrong"), (eight, 1, 0, "correct"),
        (coin, 0, 0, "correct"), (coin, 0, 1, "wrong"),
    ])  # fmt: skip
    epochs = query(
        toy_catalog, "SELECT epoch, position, problem_id, history FROM epoch_problems ORDER BY 1, 2"
    )
    assert epochs == [(0, 0, seven, "new"), (0, 1, eight, "new"), (0, 2, coin, "new"),
                      (1, 0, seven, "solved"), (1, 1, eight, "all_wrong")]  # fmt: skip
    assert query(toy_catalog, "SELECT epoch FROM runs WHERE run_id = 'peer'") == [(1,)]
    # The same run continued (a restarted server): numbering and epochs go on.
    recorder.finish("completed")
    again = RunRecorder(_config(toy_catalog, run_id="peer"), kind="openrlhf", group_size=2)
    again.record([_done(coin, True), _done(seven, False)])
    again.flush()
    later = query(toy_catalog, "SELECT problem_id, epoch, sample_idx FROM rollouts WHERE epoch = 1 "
                               "AND problem_id IN (?, ?)", [coin, seven])  # fmt: skip
    assert sorted(later) == sorted([(coin, 1, 0), (seven, 1, 0), (seven, 1, 1)])
    assert query(toy_catalog, "SELECT status FROM runs WHERE run_id = 'peer'") == [("running",)]


def test_a_continued_run_keeps_its_kind_and_its_meaning(toy_catalog):
    RunRecorder(_config(toy_catalog, run_id="r1", seed=1), kind="trl")
    with pytest.raises(InputError, match="run_id r1: the run was started with seed = 1, not 2"):
        RunRecorder(_config(toy_catalog, run_id="r1", seed=2), kind="trl")
    with pytest.raises(InputError, match="run_id r1: that run is of kind 'trl', not 'verl'"):
        RunRecorder(_config(toy_catalog, run_id="r1", seed=1), kind="verl")
    with pytest.raises(InputError, match="kind must be one of"):
        RunRecorder(_config(toy_catalog), kind="train")
    fresh = RunRecorder(_config(toy_catalog), kind="verl")
    assert fresh.run_id.startswith("verl-")
    ((kind, config),) = query(toy_catalog, "SELECT kind, config FROM runs WHERE run_id = ?", [fresh.run_id])
    assert kind == "verl" and json.loads(config)["data"]["include_unrated"] is True


def test_a_planned_epoch_is_stored_once_and_followed(toy_catalog):
    ids = problem_ids(toy_catalog)
    recorder = RunRecorder(_config(toy_catalog, run_id="planned", stage=1), kind="trl")
    first = start_epoch(recorder, 0)
    assert {p.problem_id for p in first.problems} == {ids[k] for k in ids if k != "code"}  # stage 1: math
    assert first.counts["new"] == 7
    recorder.record(
        [_done(p.problem_id, p.problem_id == ids["seven0"], epoch=0, step=1) for p in first.problems]
    )
    second = start_epoch(recorder, 1)  # writes what was recorded, then plans
    assert ids["seven0"] not in {p.problem_id for p in second.problems}
    assert second.counts["dropped"] == 1 and second.counts["all_wrong"] == 6
    # Planned epochs get no rows from completions; asking again returns the stored set.
    assert start_epoch(recorder, 1).problems == second.problems
    assert follow_epoch(recorder.catalog, "planned", 1).problems == second.problems
    with pytest.raises(InputError, match="epoch 5 was not stored"):
        follow_epoch(recorder.catalog, "planned", 5, timeout_s=0.0)


def test_ground_truths_are_read_the_same_way_everywhere():
    tests = {"type": "call", "fn_name": "f", "cases": []}
    assert target_from_label("27") == Target(domain="math", answer="27")
    assert target_from_label(27.0) == Target(domain="math", answer="27")
    assert target_from_label(json.dumps(tests)).tests == json.dumps(tests)
    assert target_from_label(tests).domain == "code"
    label = json.dumps({"problem_id": "p1", "domain": "math", "answer": "\\frac{1}{2}"})
    assert target_from_label(label) == Target(domain="math", answer="\\frac{1}{2}", problem_id="p1")
    assert target_from_label(json.dumps({"problem_id": "p2"})) == Target(domain="math", problem_id="p2")
    assert not target_from_label(json.dumps({"problem_id": "p2"})).complete
    assert target_from_label("[1, 2]").answer == "[1, 2]"  # a JSON list is a math answer
    assert target_from_label("", domain="math").answer is None


def test_run_settings_load_like_every_srpo_config(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("seed: 4\ndata:\n  include_unrated: true\n  drop_solved: false\n")
    config = load_run_config(path, ["stage=1"], catalog="x.duckdb")
    assert (config.seed, config.stage, config.catalog, config.data.drop_solved) == (4, 1, "x.duckdb", False)
    with pytest.raises(InputError, match=r"unknown setting data\.drop_solve"):
        load_run_config(None, ["data.drop_solve=false"])
    with pytest.raises(InputError, match="stage must be 1"):
        load_run_config(None, ["stage=3"])
