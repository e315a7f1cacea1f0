"""A training run's side of the catalog: the config it runs with, its `runs` row, its epochs,
its rollouts. Only rank 0 creates a `CatalogRecord`; every write is one short transaction.

- `resolve_config`: a new run's config from a file and `--set` overrides; a resumed run's from
  the config stored with it (overrides may change how long it runs or what it logs, not what
  its samples mean: the identity sections must stay as they were).
- `CatalogRecord`: starts or resumes the `runs` row, plans each epoch (the history-resampling
  query, stored in `epoch_problems` when the epoch starts), reads problem texts, writes each
  step's rollouts with the run's new position, records the stage switch and checkpoints.

Covers: the catalog I/O of training. Does not cover: the SQL of resampling (`resampling`) or
of the tables (`srpo.catalog.runs`, `srpo.catalog.epochs`, `srpo.catalog.rollouts`).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.catalog import epochs, rollouts, runs
from srpo.catalog.records import utcnow
from srpo.errors import InputError
from srpo.train.config import IDENTITY_SECTIONS, RENAMED, TrainConfig
from srpo.train.resampling import EpochPlan, ProblemText, plan_epoch, problem_texts

if TYPE_CHECKING:
    from srpo.catalog import Catalog
    from srpo.catalog.epochs import EpochProblem


def new_run_id() -> str:
    return f"train-{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def resolve_config(
    catalog: Catalog | None,
    *,
    config_path: Path | None,
    overrides: tuple[str, ...] = (),
    resume: str | None = None,
) -> TrainConfig:
    """The run's config: from the file (new runs) or the stored one (resumed runs), plus --set.

    A new run needs no catalog (`catalog` may be None); a resumed run reads its stored config.
    """
    from srpo.config import load_config, to_dict

    stored = None
    if resume is not None:
        with catalog.reader() as con:
            run = runs.get_run(con, resume)
        if run is None or run.kind != runs.TRAIN_KIND:
            raise InputError(f"--resume {resume}: no training run with that id in {catalog.path}")
        # Through the config type, so a config stored by an earlier srpo compares field by field.
        stored = to_dict(load_config(TrainConfig, base=run.config, renamed=RENAMED))
    config = load_config(TrainConfig, config_path, overrides, base=stored, renamed=RENAMED)
    config.validate()
    if stored is not None:
        # A resumed run keeps its folder (stored resolved), whatever a config file says.
        config = replace(config, output_dir=stored.get("output_dir", config.output_dir))
        now = to_dict(config)
        for key in IDENTITY_SECTIONS:
            if stored.get(key) != now.get(key):
                raise InputError(
                    f"--resume {resume}: the run was started with {key} = {json.dumps(stored.get(key))}, "
                    f"not {json.dumps(now.get(key))}; resume with the same settings or start a new run"
                )
    return config


class CatalogRecord:
    """Rank 0's handle on the catalog for one run.

    Rollouts are buffered and written in one short transaction at most every
    `logging.rollout_write_interval_s` seconds (each transaction opens and closes the file,
    which costs tens of milliseconds: more than a step of a small model), and always before an
    epoch is planned, a checkpoint is recorded, the stage switches or the run ends, so the
    history the resampling query reads and every checkpoint's steps are complete. The problem
    texts of an epoch are read once, when it starts.
    """

    def __init__(self, catalog: Catalog, run_id: str, config: TrainConfig) -> None:
        self.catalog = catalog
        self.run_id = run_id
        self.config = config
        self._rows: list[rollouts.RolloutRow] = []
        self._position: tuple[int, int, int] | None = None
        self._written_at = time.monotonic()
        self._texts: dict[str, ProblemText] = {}

    def start(self, *, model: str, stored_config: dict[str, Any], resume: bool) -> runs.RunPosition | None:
        with self.catalog.writer() as con:
            existing = runs.get_run(con, self.run_id)
            if existing is not None and not resume:
                raise InputError(f"--run-id {self.run_id}: a run with that id exists; use --resume")
            if existing is None:
                if resume:
                    raise InputError(f"--resume {self.run_id}: no such run")
                runs.start_run(con, self.run_id, kind=runs.TRAIN_KIND, model=model, config=stored_config)
                runs.set_position(con, self.run_id, stage=self.config.stages.start_stage, epoch=0, step=0)
                return None
            runs.mark_run(con, self.run_id, status="running")
            return runs.run_position(con, self.run_id)

    def rewind(self, *, step: int, epoch: int, stage: int, checkpoint: str | None) -> int:
        """Forget what came after the checkpoint being resumed; returns rollouts deleted."""
        self.flush()
        with self.catalog.writer() as con:
            deleted = runs.forget_after(con, self.run_id, step=step, epoch=epoch)
            runs.set_position(con, self.run_id, stage=stage, epoch=epoch, step=step, checkpoint=checkpoint)
        return deleted

    def epoch(self, *, epoch: int, stage: int, step: int) -> tuple[int, list[EpochProblem], dict[str, int]]:
        """The epoch's stage, problems and resampling counts: as stored when the epoch already
        started, else planned now by the resampling query (after every earlier rollout is
        written) and stored. Reads the epoch's problem texts too."""
        self.flush()
        with self.catalog.reader() as con:
            stored_stage, stored = epochs.stored_epoch(con, self.run_id, epoch)
        if stored:
            counts = {"kept": len(stored)}
            for problem in stored:
                counts[problem.history] = counts.get(problem.history, 0) + 1
            self._load_texts(stored)
            return stored_stage, stored, counts
        with self.catalog.reader() as con:
            plan: EpochPlan = plan_epoch(
                con, self.config.data, run_id=self.run_id, epoch=epoch, stage=stage, seed=self.config.seed
            )
        problems = plan.problems
        if problems:
            with self.catalog.writer() as con:
                epochs.store_epoch(con, self.run_id, epoch=epoch, stage=stage, problems=problems)
                runs.set_position(con, self.run_id, stage=stage, epoch=epoch, step=step)
            self._load_texts(problems)
        return stage, problems, {"kept": len(problems), **plan.counts()}

    def _load_texts(self, problems: list[EpochProblem]) -> None:
        wanted = [p.problem_id for p in problems]
        with self.catalog.reader() as con:
            self._texts = problem_texts(con, wanted)
        missing = [pid for pid in wanted if pid not in self._texts]
        if missing:
            raise InputError(
                f"problem {missing[0]} of this epoch is no longer a kept problem in the catalog (cleaned "
                "since the epoch was planned): --resume cannot continue this run; start a new one"
            )

    def texts(self, problem_ids: list[str]) -> list[ProblemText]:
        """Question, answer and tests of problems of the current epoch."""
        return [self._texts[pid] for pid in problem_ids]

    def write_step(self, rows: list[rollouts.RolloutRow], *, stage: int, epoch: int, step: int) -> None:
        """Record one step's rollouts and the run's new position (buffered; see the class)."""
        self._rows.extend(rows)
        self._position = (stage, epoch, step)
        if time.monotonic() - self._written_at >= self.config.logging.rollout_write_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rollouts and position now."""
        if self._position is not None:
            stage, epoch, step = self._position
            with self.catalog.writer() as con:
                rollouts.insert_rollouts(con, self._rows)
                runs.set_position(con, self.run_id, stage=stage, epoch=epoch, step=step)
        self._rows, self._position = [], None
        self._written_at = time.monotonic()

    def stage_switch(self, *, step: int, reason: str) -> None:
        self.flush()
        with self.catalog.writer() as con:
            runs.record_stage_switch(con, self.run_id, step=step, reason=reason)

    def checkpoint(self, path: Path, *, stage: int, epoch: int, step: int) -> None:
        """Record a saved checkpoint, once the rollouts of the steps it covers are written."""
        self.flush()
        with self.catalog.writer() as con:
            runs.set_position(con, self.run_id, stage=stage, epoch=epoch, step=step, checkpoint=str(path))

    def finish(self, status: str, notes: dict[str, Any]) -> None:
        try:
            self.flush()
        except Exception:
            if status == "completed":
                raise
            # A failing run is being closed: its own error is the one to report.
        with self.catalog.writer() as con:
            runs.mark_run(con, self.run_id, status=status, notes=notes)
