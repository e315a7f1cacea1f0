"""srpo in a TRL `GRPOTrainer` run, in a few lines:

    from srpo.integrations.trl import TRLRun

    srpo = TRLRun(catalog="srpo.duckdb", data=DataConfig(include_unrated=True))  # a run of kind trl
    trainer = GRPOTrainer(model=..., args=GRPOConfig(...), train_dataset=srpo.dataset(),
                          reward_funcs=srpo.reward_funcs, callbacks=[srpo.callback])
    srpo.resample(trainer)  # optional: every epoch is srpo's history-resampling query
    trainer.train()

`TRLRun` ties the pieces together: the run's `RunRecorder` (main process only), the
`CompletionLog` the rewards feed, `TRLRewards` with its grader settings, the callback, the
dataset of every problem the run may draw (the catalog's eligible problems in the TRL export's
columns) and the sampler. Settings are a `RunConfig` (or its fields as keywords) and a
`GraderConfig`. A distributed run (several processes, `RANK`/`WORLD_SIZE` set) needs an
explicit `run_id`, the same in every process.

Covers: wiring. Does not cover: the pieces (`rewards`, `callback`, `sampler`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from srpo.catalog import Catalog
from srpo.errors import InputError
from srpo.integrations.config import RunConfig
from srpo.integrations.recorder import RunRecorder
from srpo.integrations.trl.callback import CompletionLog, catalog_callback
from srpo.integrations.trl.rewards import TRLRewards
from srpo.integrations.trl.sampler import HistoryResamplingSampler, use_history_resampling
from srpo.verify.config import GraderConfig

if TYPE_CHECKING:
    import duckdb

    from srpo.rollout.prompts import PromptStyle

_ROWS_SQL = """
SELECT {columns} FROM (
    SELECT p.*, w.rank_in_run, row_number() OVER (PARTITION BY p.problem_id
        ORDER BY p.verify_status = 'verified' DESC, p.source, p.split, p.source_index) AS occurrence
    FROM problems p JOIN srpo_wanted w ON p.problem_id = w.problem_id
    WHERE p.clean_status = 'kept' AND p.benchmark IS NULL
) WHERE occurrence = 1 ORDER BY rank_in_run
"""


def process_rank() -> tuple[int, int]:
    """(rank, world size) from the launcher's environment (torchrun, accelerate, deepspeed)."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


class TRLRun:
    """The srpo side of one `GRPOTrainer` run (see the module docstring)."""

    def __init__(
        self, config: RunConfig | None = None, *, grader: GraderConfig | None = None, **settings: Any
    ):
        from srpo.config import with_settings

        config = with_settings(config or RunConfig(), settings)
        config.validate()
        rank, world = process_rank()
        if world > 1 and config.run_id is None:
            raise InputError(
                "run_id: a distributed TRL run needs an explicit run_id, the same in every process"
            )
        self.config = config
        self.grader = grader or GraderConfig()
        self.catalog = Catalog.open(config.catalog)
        self.recorder = RunRecorder(config, kind="trl", settings={"world_size": world}) if rank == 0 else None
        self.run_id = self.recorder.run_id if self.recorder is not None else str(config.run_id)
        self.log = CompletionLog(
            self.recorder, catalog_path=self.catalog.path, run_id=self.run_id, world_size=world
        )
        self.rewards = TRLRewards(self.grader, log=self.log, catalog=str(self.catalog.path))
        self.callback = catalog_callback(self.log)
        self.sampler: HistoryResamplingSampler | None = None

    @property
    def reward_funcs(self) -> list[Any]:
        """`[srpo_reward]`: every completion graded as math or code by its row's domain."""
        return [self.rewards.srpo_reward]

    def resample(self, trainer: Any) -> HistoryResamplingSampler:
        """Make `trainer` take each epoch from srpo's history-resampling query."""
        self.sampler = use_history_resampling(trainer, self.log, self.recorder, self.catalog)
        return self.sampler

    def dataset(self, *, style: PromptStyle | None = None) -> Any:
        """Every problem the run's epochs may draw (eligible for its stage and data settings),
        as a `datasets.Dataset` in the columns of `srpo-curate query --export trl`."""
        from datasets import Dataset

        from srpo.curate.export import export_rows

        with self.catalog.reader() as con:
            rows = eligible_rows(con, self.config)
        if not rows:
            raise InputError(
                f"{self.catalog.path}: no problem fits the run's data settings (stage {self.config.stage}, "
                f"difficulties {list(self.config.data.difficulties)}, include_unrated "
                f"{self.config.data.include_unrated}, verified_only {self.config.data.verified_only})"
            )
        return Dataset.from_list(export_rows(rows, "trl", style=style))


def eligible_rows(con: duckdb.DuckDBPyConnection, config: RunConfig) -> list[dict[str, Any]]:
    """One catalog row (NEEDED_COLUMNS of the exports) per problem the run may draw, in the
    order of its first epoch."""
    import pyarrow as pa

    from srpo.curate.export import NEEDED_COLUMNS
    from srpo.train.resampling import plan_epoch

    plan = plan_epoch(con, config.data, run_id="", epoch=0, stage=config.stage, seed=config.seed)
    wanted = pa.table(
        {
            "problem_id": pa.array([p.problem_id for p in plan.judged], pa.string()),
            "rank_in_run": pa.array(range(len(plan.judged)), pa.int64()),
        }
    )
    con.register("srpo_wanted", wanted)
    try:
        columns = ", ".join(NEEDED_COLUMNS)
        result = con.execute(_ROWS_SQL.format(columns=columns))
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.unregister("srpo_wanted")
