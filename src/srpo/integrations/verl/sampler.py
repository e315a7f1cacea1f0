"""History resampling for verl: a curriculum sampler (`data.sampler.class_path=
pkg://srpo.integrations.verl`, `data.sampler.class_name=HistoryResamplingSampler`,
`data.dataloader_num_workers=0`) whose every epoch is srpo's query, and which records every
response of the run in the catalog. The hook exists in verl 0.5 to 0.7 (0.8 replaced it with its
v1 trainer's replay buffer); `just verl-smoke` runs this with verl 0.7.1.

verl builds it as `HistoryResamplingSampler(data_source=dataset, data_config=config.data)` and,
after each training step, calls `update(batch)` with the step's `DataProto`. Settings come
from `data.sampler` (added with Hydra's `+`): `catalog`, `run_id`, `config` (a TOML/YAML file
of `RunConfig` fields: `data`, `seed`, `stage`, ...) and `set` (a list of `key=value`), else
`$SRPO_CATALOG` and `$SRPO_RUN_ID`.

- `__iter__`: the epoch's set (stored, or planned by the query and stored, after every response
  recorded so far is written), as positions of the problems in verl's dataset (matched by
  `extra_info.problem_id`, which `srpo-curate query --export verl` writes);
- `update(batch)`: each response becomes a `rollouts` row: problem from `extra_info`, reward
  from the `score` the reward function returned (else the sum of `token_level_scores`), status
  from `status` (srpo's `compute_score` returns it; else correct when the reward is 1),
  response tokens from `response_mask`, finish reason `length` at the response length limit,
  step the sampler's count of updates; written at once (verl does not say when training ends,
  so the run's row stays `running`). verl's batch holds no response text, so none is stored.

Covers: the sampler's logic (`HistoryResampling`). The class verl loads,
`HistoryResamplingSampler`, adds verl's `AbstractCurriculumSampler` as a base when verl is
installed (built on first access, so importing this module imports neither verl nor torch).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from typing import Any

from srpo.errors import InputError
from srpo.integrations.config import RunConfig, load_run_config
from srpo.integrations.epochs import StartedEpoch, problem_order, start_epoch
from srpo.integrations.recorder import Completion, RunRecorder


def _setting(config: Any, name: str) -> Any:
    if config is None:
        return None
    getter = getattr(config, "get", None)
    return getter(name) if callable(getter) else getattr(config, name, None)


def run_config_from(data_config: Any) -> RunConfig:
    """The RunConfig a verl `data` config asks for (see the module docstring)."""
    sampler = _setting(data_config, "sampler")
    overrides = [str(item) for item in (_setting(sampler, "set") or [])]
    settings = {
        "catalog": _setting(sampler, "catalog") or os.environ.get("SRPO_CATALOG"),
        "run_id": _setting(sampler, "run_id") or os.environ.get("SRPO_RUN_ID"),
    }
    return load_run_config(_setting(sampler, "config"), overrides, **settings)


def dataset_problem_ids(data_source: Any) -> list[str | None]:
    """`extra_info.problem_id` of every row of verl's dataset, in its order (`RLHFDataset`
    keeps the rows in `.dataframe`; other datasets are indexed)."""
    frame = getattr(data_source, "dataframe", None)
    if frame is not None and "extra_info" in getattr(frame, "column_names", ()):
        infos = frame["extra_info"]
    else:
        infos = [data_source[i].get("extra_info") for i in range(len(data_source))]
    return [(info or {}).get("problem_id") for info in infos]


def _column(batch: Any, name: str) -> Any:
    values = getattr(batch, "non_tensor_batch", {}) or {}
    return values.get(name)


class HistoryResampling:
    """The logic of verl's curriculum sampler (see the module docstring)."""

    def __init__(self, data_source: Any, data_config: Any, *, config: RunConfig | None = None) -> None:
        self.recorder = RunRecorder(config or run_config_from(data_config), kind="verl")
        ids = dataset_problem_ids(data_source)
        if not any(ids):
            raise InputError(
                "data.train_files: no row has extra_info.problem_id; export the data with "
                "`srpo-curate query --export verl`"
            )
        self.positions: dict[str, int] = {}
        for position, problem_id in enumerate(ids):
            if problem_id is not None:
                self.positions.setdefault(str(problem_id), position)
        self.epoch = self._first_epoch()
        self.step = self.recorder.step or 0
        self.started: StartedEpoch | None = None
        self._order: list[int] | None = None

    def _first_epoch(self) -> int:
        """0 for a new run; a continued run goes on after its latest epoch that has rollouts."""
        with self.recorder.catalog.reader() as con:
            rows = con.execute(
                "SELECT max(epoch) FROM rollouts WHERE run_id = ?", [self.recorder.run_id]
            ).fetchall()
        latest = rows[0][0]
        return 0 if latest is None else latest + 1

    def _positions(self) -> list[int]:
        if self._order is None:
            self.started = start_epoch(self.recorder, self.epoch)
            self._order = problem_order(
                self.started.problems, self.positions, where=f"run {self.recorder.run_id}"
            )
        return self._order

    def __len__(self) -> int:
        return len(self._positions())

    def __iter__(self) -> Iterator[int]:
        yield from self._positions()
        self.epoch, self._order = self.epoch + 1, None
        self.recorder.flush()

    def update(self, batch: Any) -> None:
        """Record the step's responses (verl calls this after every training step)."""
        self.step += 1
        self.recorder.record(batch_completions(batch, step=self.step))
        # verl gives no signal when training ends (its trainer may be killed with its Ray
        # actor), so every step is written at once: one short transaction per training step.
        self.recorder.flush()


def batch_completions(batch: Any, *, step: int) -> list[Completion]:
    """One Completion per response of a verl `DataProto` (rows without a problem id skipped)."""
    infos = _column(batch, "extra_info")
    if infos is None:
        return []
    tensors = batch.batch
    responses = tensors["responses"]
    limit = int(responses.shape[-1])
    if "response_mask" in list(tensors.keys()):  # a TensorDict in verl, a dict in tests
        lengths = tensors["response_mask"].sum(-1).tolist()
    else:
        lengths = tensors["attention_mask"][:, -limit:].sum(-1).tolist()
    scores, statuses = _column(batch, "score"), _column(batch, "status")
    if scores is None:
        scores = tensors["token_level_scores"].sum(-1).tolist()
    completions = []
    for index, info in enumerate(infos):
        info = info if isinstance(info, Mapping) else {}
        if info.get("problem_id") is None:
            continue
        reward = float(scores[index])
        status = str(statuses[index]) if statuses is not None else ("correct" if reward >= 1.0 else "wrong")
        tokens = int(lengths[index])
        completions.append(
            Completion(
                problem_id=str(info["problem_id"]), domain=str(info.get("domain") or "math"), reward=reward,
                status=status, response_tokens=tokens, finish_reason="length" if tokens >= limit else "stop",
                step=step,
            )
        )  # fmt: skip
    return completions


@functools.cache
def sampler_class() -> type:
    """`HistoryResampling`, with verl's `AbstractCurriculumSampler` as a base when verl is
    installed (verl checks `isinstance(sampler, AbstractCurriculumSampler)` before calling
    `update`)."""
    try:
        from verl.experimental.dataset.sampler import AbstractCurriculumSampler
    except ImportError:
        return HistoryResampling

    class HistoryResamplingSampler(HistoryResampling, AbstractCurriculumSampler):
        """srpo's history resampling as verl's curriculum sampler (srpo.integrations.verl)."""

        def __init__(self, data_source: Any, data_config: Any) -> None:
            HistoryResampling.__init__(self, data_source, data_config)

        def update(self, batch: Any) -> None:
            HistoryResampling.update(self, batch)

    return HistoryResamplingSampler
