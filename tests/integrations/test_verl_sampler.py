"""verl's curriculum sampler, driven the way verl's trainer drives it (without verl, which needs
Ray; `just verl-smoke` runs it for real): built from the dataset of a `--export verl` parquet and
the `data` config, iterated once per epoch, `update(batch)` after every step with a batch shaped
like verl's `DataProto`. Every response lands in the catalog; the next epoch drops the problems
solved in the last one; `srpo-curate query --next-epoch` answers for the run."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pyarrow.parquet as pq
import pytest

from srpo.integrations.verl import HistoryResampling, HistoryResamplingSampler
from tests.helpers import run_cli

from .conftest import make_catalog, problem_ids, query

GROUP = 4
MAX_RESPONSE = 8


@pytest.fixture
def verl_setup(tmp_path):
    from datasets import Dataset

    catalog = make_catalog(tmp_path)
    out = tmp_path / "train.parquet"
    result = run_cli("query", "--catalog", str(catalog.path), "--export", "verl", "-o", str(out))
    assert result.returncode == 0, result.stderr
    # verl's RLHFDataset keeps its rows in `.dataframe` (a datasets.Dataset).
    dataset = SimpleNamespace(dataframe=Dataset.from_list(pq.read_table(out).to_pylist()))
    data_config = {"sampler": {"catalog": str(catalog.path), "run_id": "verl-test",
                               "set": ["data.include_unrated=true", "seed=5"]}}  # fmt: skip
    return catalog, dataset, data_config


def _batch(rows, outcomes):
    """A DataProto-like step: GROUP responses per row; `outcomes[problem_id]` the rewards."""
    import torch

    infos, scores, statuses, masks = [], [], [], []
    for row in rows:
        for sample in range(GROUP):
            reward = outcomes[row["extra_info"]["problem_id"]][sample]
            infos.append(row["extra_info"])
            scores.append(reward)
            statuses.append("correct" if reward else "wrong")
            length = MAX_RESPONSE if sample == 0 else 3  # the first sample of each group is cut off
            masks.append([1] * length + [0] * (MAX_RESPONSE - length))
    size = len(infos)
    return SimpleNamespace(
        batch={"responses": torch.zeros(size, MAX_RESPONSE, dtype=torch.long),
               "response_mask": torch.tensor(masks), "token_level_scores": torch.zeros(size, MAX_RESPONSE)},
        non_tensor_batch={"extra_info": np.array(infos, dtype=object), "score": np.array(scores),
                          "status": np.array(statuses, dtype=object)},
    )  # fmt: skip


def test_the_sampler_records_every_response_and_resamples(verl_setup):
    catalog, dataset, data_config = verl_setup
    assert HistoryResamplingSampler is HistoryResampling  # verl is not installed here
    sampler = HistoryResamplingSampler(data_source=dataset, data_config=data_config)
    ids = problem_ids(catalog)
    solved = {ids[f"seven{i}"] for i in range(4)}
    outcomes = {pid: ([1.0] * GROUP if pid in solved else [1.0, 0.0, 0.0, 0.0] if pid == ids["coin"] else [0.0] * GROUP)
                for pid in ids.values()}  # fmt: skip
    frame = dataset.dataframe
    first = list(iter(sampler))
    assert len(first) == len(sampler.positions) == 8 and sorted(first) == list(range(8))
    for start in range(0, len(first), 2):  # two prompts per step, as verl's dataloader batches them
        sampler.update(_batch([frame[i] for i in first[start : start + 2]], outcomes))
    second = list(iter(sampler))
    kept = {frame[i]["extra_info"]["problem_id"] for i in second}
    assert kept == set(ids.values()) - solved
    rows = query(catalog, "SELECT epoch, step, problem_id, sample_idx, reward, status, response_tokens, finish_reason "
                          "FROM rollouts WHERE run_id = 'verl-test' ORDER BY step, problem_id, sample_idx")  # fmt: skip
    assert len(rows) == 8 * GROUP and {r[0] for r in rows} == {0} and {r[1] for r in rows} == {1, 2, 3, 4}
    for _, _, pid, sample, reward, status, tokens, finish in rows:
        assert reward == outcomes[pid][sample] and status == ("correct" if reward else "wrong")
        assert (tokens, finish) == ((MAX_RESPONSE, "length") if sample == 0 else (3, "stop"))
    histories = dict(
        query(
            catalog, "SELECT problem_id, history FROM epoch_problems WHERE run_id = 'verl-test' AND epoch = 1"
        )
    )
    assert histories == {ids["coin"]: "mixed", **{ids[k]: "all_wrong" for k in ("eight0", "eight1", "code")}}
    ((kind, config),) = query(catalog, "SELECT kind, config FROM runs WHERE run_id = 'verl-test'")
    assert kind == "verl" and json.loads(config)["seed"] == 5


def test_next_epoch_answers_for_a_verl_run_and_a_restart_continues(verl_setup):
    catalog, dataset, data_config = verl_setup
    sampler = HistoryResamplingSampler(data_source=dataset, data_config=data_config)
    ids = problem_ids(catalog)
    order = list(iter(sampler))
    outcomes = {pid: [1.0] * GROUP if pid == ids["eight0"] else [0.0] * GROUP for pid in ids.values()}
    sampler.update(_batch([dataset.dataframe[i] for i in order], outcomes))
    result = run_cli("query", "--catalog", str(catalog.path), "--next-epoch", "verl-test", "-f", "jsonl")
    assert result.returncode == 0, result.stderr
    shown = {json.loads(line)["problem_id"] for line in result.stdout.splitlines()}
    assert shown == set(ids.values()) - {ids["eight0"]}
    # A restarted trainer continues the run after its last epoch with rollouts, same set.
    again = HistoryResamplingSampler(data_source=dataset, data_config=data_config)
    assert {dataset.dataframe[i]["extra_info"]["problem_id"] for i in iter(again)} == shown
    assert again.started is not None and again.started.epoch == 1
    # Changing what the epochs mean is refused, naming the setting.
    changed = {"sampler": {**data_config["sampler"], "set": ["data.include_unrated=true", "seed=6"]}}
    with pytest.raises(Exception, match="seed"):
        HistoryResamplingSampler(data_source=dataset, data_config=changed)
