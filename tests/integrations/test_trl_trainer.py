"""TRL's real `GRPOTrainer` with srpo's rewards, callback and sampler, on CPU: a taught tiny model
(answers 7 to everything, 7 or 8 to the coin question), two epochs. Every completion lands in
the catalog under a `trl` run, epoch 1 trains on exactly what history resampling keeps from
epoch 0, and `srpo-curate query --next-epoch RUN` answers for the run."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from srpo.integrations.trl import TRLRun
from srpo.train.config import DataConfig
from srpo.verify.config import GraderConfig
from tests.helpers import run_cli

from .conftest import make_catalog, problem_ids, query

pytestmark = pytest.mark.slow
GROUP = 4


@pytest.fixture(scope="module")
def trl_run(taught_model, tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    tmp = tmp_path_factory.mktemp("trl")
    catalog = make_catalog(tmp)
    srpo = TRLRun(
        catalog=str(catalog.path), data=DataConfig(include_unrated=True), seed=3, store_responses=True,
        write_interval_s=0.0, model=str(taught_model), grader=GraderConfig(workers=1),
    )  # fmt: skip
    args = GRPOConfig(
        output_dir=str(tmp / "out"), use_cpu=True, bf16=False, report_to=[], save_strategy="no",
        logging_steps=1, disable_tqdm=True, num_train_epochs=2, per_device_train_batch_size=2 * GROUP,
        num_generations=GROUP, max_completion_length=16, learning_rate=1e-6, beta=0.0, seed=0,
        dataloader_num_workers=0, temperature=1.0,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(taught_model),
        reward_funcs=srpo.reward_funcs,
        args=args,
        train_dataset=srpo.dataset(),
        processing_class=AutoTokenizer.from_pretrained(taught_model),
        callbacks=[srpo.callback],
    )
    srpo.resample(trainer)
    trainer.train()
    return {"catalog": catalog, "run_id": srpo.run_id, "trainer": trainer, "tmp": tmp}


def _rollouts(catalog, run_id):
    names = ("epoch", "stage", "step", "problem_id", "sample_idx", "reward", "status", "response_tokens",
             "finish_reason", "response", "extracted")  # fmt: skip
    rows = query(catalog, f"SELECT {', '.join(names)} FROM rollouts WHERE run_id = ? ORDER BY epoch, step, "
                          "problem_id, sample_idx", [run_id])  # fmt: skip
    return [dict(zip(names, row, strict=True)) for row in rows]


def _epochs(catalog, run_id):
    found = defaultdict(list)
    for epoch, problem_id, history in query(
        catalog,
        "SELECT epoch, problem_id, history FROM epoch_problems WHERE run_id = ? ORDER BY epoch, position",
        [run_id],
    ):
        found[epoch].append((problem_id, history))
    return dict(found)


def test_every_completion_is_in_the_catalog(trl_run):
    catalog, run_id = trl_run["catalog"], trl_run["run_id"]
    ((kind, status, config),) = query(
        catalog, "SELECT kind, status, config FROM runs WHERE run_id = ?", [run_id]
    )
    assert (kind, status) == ("trl", "completed")
    assert json.loads(config)["data"]["include_unrated"] is True
    rows = _rollouts(catalog, run_id)
    epochs = _epochs(catalog, run_id)
    assert sorted(epochs) == [0, 1]
    # Each epoch's problems, GROUP samples each, numbered 0..GROUP-1, nothing else.
    for epoch, problems in epochs.items():
        samples = defaultdict(list)
        for row in rows:
            if row["epoch"] == epoch:
                samples[row["problem_id"]].append(row["sample_idx"])
        assert {pid: sorted(idx) for pid, idx in samples.items()} == {
            pid: list(range(GROUP)) for pid, _ in problems
        }
    assert {row["epoch"] for row in rows} == {0, 1}
    # Steps: the optimiser step each completion trained, 1.. in order; one generation per step.
    steps = sorted({row["step"] for row in rows})
    assert steps == list(range(1, trl_run["trainer"].state.global_step + 1))
    for row in rows:
        assert row["stage"] == 2 and row["status"] in {"correct", "wrong", "no_answer", "timeout", "error"}
        assert row["reward"] == (1.0 if row["status"] == "correct" else 0.0)
        assert 1 <= row["response_tokens"] <= 16 and row["finish_reason"] in {"stop", "length"}
        assert (row["finish_reason"] == "length") == (row["response_tokens"] == 16)
        assert row["response"] is not None
    # The taught model answers 7: the seven questions are solved, the eight questions are not.
    ids = problem_ids(catalog)
    by_problem = defaultdict(list)
    for row in rows:
        if row["epoch"] == 0:
            by_problem[row["problem_id"]].append(row["status"])
    assert by_problem[ids["eight0"]] and "correct" not in by_problem[ids["eight0"]]
    assert sum(s == "correct" for i in range(4) for s in by_problem[ids[f"seven{i}"]]) >= 12


def test_the_second_epoch_is_what_history_resampling_keeps(trl_run):
    catalog, run_id = trl_run["catalog"], trl_run["run_id"]
    rows, epochs = _rollouts(catalog, run_id), _epochs(catalog, run_id)
    first = defaultdict(list)
    for row in rows:
        if row["epoch"] == 0:
            first[row["problem_id"]].append(row["status"] == "correct")
    assert {pid for pid, _ in epochs[0]} == set(first) and len(first) == 8  # every eligible problem
    expected = {pid: ("all_wrong" if not any(ok) else "mixed") for pid, ok in first.items() if not all(ok)}
    assert dict(epochs[1]) == expected
    assert 0 < len(expected) < 8  # something was dropped, something kept


def test_next_epoch_answers_for_the_run(trl_run):
    catalog, run_id = trl_run["catalog"], trl_run["run_id"]
    rows = _rollouts(catalog, run_id)
    latest: dict[str, int] = {}
    for row in rows:
        latest[row["problem_id"]] = max(latest.get(row["problem_id"], -1), row["epoch"])
    outcome = defaultdict(list)
    for row in rows:
        if row["epoch"] == latest[row["problem_id"]]:
            outcome[row["problem_id"]].append(row["status"] == "correct")
    expected = {pid for pid, ok in outcome.items() if not all(ok)}
    result = run_cli("query", "--catalog", str(catalog.path), "--next-epoch", run_id, "-f", "jsonl")
    assert result.returncode == 0, result.stderr
    shown = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["problem_id"] for row in shown} == expected
    assert f"run {run_id}: epoch 2 (stage 2)" in result.stderr
