"""A training run's side of the catalog: the config it runs with, its `runs` row, its epochs,
its rollouts. Only rank 0 creates a `CatalogRecord`; every write is one short transaction.

- `resolve_config`: a new run's config from a file and `--set` overrides; a resumed run's from
  the config stored with it (overrides may change how long it runs or what it logs, not what
  its samples mean: the identity sections must stay as they were).
- `CatalogRecord`: starts or resumes the `runs` row, plans each epoch (the history-resampling
  query, stored in `epoch_problems` when the epoch starts), reads problem texts, writes each
  step's rollouts with the run's new position, records the stage switch and checkpoints; when
  another process holds the catalog, the writes wait in the run's spool (`srpo.catalog.spool`)
  instead of stopping the run.

Covers: the catalog I/O of training. Does not cover: the SQL of resampling (`resampling`) or
of the tables (`srpo.catalog.runs`, `srpo.catalog.epochs`, `srpo.catalog.rollouts`).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from srpo.catalog import epochs, rollouts, runs, spool
from srpo.catalog.records import utcnow
from srpo.catalog.spool import SPOOL_DIR, Spool
from srpo.errors import CatalogLockedError, InputError
from srpo.train.config import IDENTITY_SECTIONS, RENAMED, TrainConfig
from srpo.train.resampling import HISTORIES, EpochPlan, ProblemText, plan_epoch, problem_texts

if TYPE_CHECKING:
    from srpo.catalog import Catalog
    from srpo.catalog.epochs import EpochProblem

T = TypeVar("T")
log = logging.getLogger("srpo.train")


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


IN_LOOP_WAIT_S = 1.0
"""How long a write inside the loop waits for a locked catalog before its rows go to the spool."""
LOCKED_RETRY_S = 5.0
"""After a write found the catalog locked, the next write inside the loop tries no sooner."""
PATIENT_PAUSE_S = 1.0
"""Pause between two waits for a catalog that an epoch or a resume cannot do without."""


class CatalogRecord:
    """Rank 0's handle on the catalog for one run.

    Rollouts are buffered and written in one short transaction at most every
    `logging.rollout_write_interval_s` seconds (each transaction opens and closes the file,
    which costs tens of milliseconds: more than a step of a small model), and always before an
    epoch is planned, when a checkpoint is recorded, the stage switches or the run ends, so the
    history the resampling query reads and every checkpoint's steps are complete. The run's
    position, checkpoint and stage switch go into the same transaction as the rows they follow.

    Another process holding the catalog never stops the run: a write inside the loop waits at
    most `IN_LOOP_WAIT_S`, then puts its rows and the run's new state in the run's spool
    (`srpo.catalog.spool`, in the output dir) and the next write lands them; so memory holds at
    most one write interval of rows. Planning an epoch needs the whole history, so there the
    trainer waits for the catalog (saying who holds it) as long as it takes. A run that ends
    with the catalog locked leaves its spool to the next command that opens the catalog. A
    write that fails for another reason is held (`failure`) and raised by `raise_failure`, which
    the trainer calls where every rank learns of it. The problem texts of an epoch are read
    once, when it starts.
    """

    def __init__(self, catalog: Catalog, run_id: str, config: TrainConfig) -> None:
        from srpo.catalog import Catalog

        self.catalog = catalog
        self.run_id = run_id
        self.config = config
        self.spool = Spool(Path(config.output_dir) / SPOOL_DIR, run_id)
        self.failure: Exception | None = None
        """A write inside the loop that failed for a reason other than the lock."""
        quick = IN_LOOP_WAIT_S if catalog.lock_timeout is None else min(IN_LOOP_WAIT_S, catalog.lock_timeout)
        self._quick = Catalog(catalog.path, lock_timeout=quick)
        self._rows: list[rollouts.RolloutRow] = []
        self._state: dict[str, Any] = {}
        """What the run's row must say once the buffered rows are in (see spool.apply_state)."""
        self._written_at = time.monotonic()
        self._locked_since: float | None = None
        self._texts: dict[str, ProblemText] = {}

    def start(self, *, model: str, stored_config: dict[str, Any], resume: bool) -> runs.RunPosition | None:
        if not self.spool.hold():
            raise InputError(
                f"run {self.run_id}: {self.spool.directory} is locked by another process: "
                "is this run already training?"
            )
        try:
            return self._start(model=model, stored_config=stored_config, resume=resume)
        except BaseException:
            self.spool.release()
            raise

    def _start(self, *, model: str, stored_config: dict[str, Any], resume: bool) -> runs.RunPosition | None:
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
            self.spool.land(con)  # what an earlier invocation left, before anything reads it
            runs.mark_run(con, self.run_id, status="running")
            position = runs.run_position(con, self.run_id)
        self.spool.clear()
        return position

    def rewind(self, *, step: int, epoch: int, stage: int, checkpoint: str | None) -> int:
        """Forget what came after the checkpoint being resumed; returns rollouts deleted."""

        def rewind() -> int:
            self._write_now()
            with self.catalog.writer() as con:
                deleted = runs.forget_after(con, self.run_id, step=step, epoch=epoch)
                runs.set_position(
                    con, self.run_id, stage=stage, epoch=epoch, step=step, checkpoint=checkpoint
                )
            return deleted

        return self._patiently(rewind, "resuming")

    def epoch(self, *, epoch: int, stage: int, step: int) -> tuple[int, list[EpochProblem], dict[str, int]]:
        """The epoch's stage, problems and resampling counts: as stored when the epoch already
        started, else planned now by the resampling query (after every earlier rollout is
        written) and stored. Reads the epoch's problem texts too."""
        return self._patiently(lambda: self._epoch(epoch=epoch, stage=stage, step=step), f"epoch {epoch}")

    def _epoch(self, *, epoch: int, stage: int, step: int) -> tuple[int, list[EpochProblem], dict[str, int]]:
        self._write_now()
        with self.catalog.reader() as con:
            stored_stage, stored = epochs.stored_epoch(con, self.run_id, epoch)
            planned_stage = stored_stage if stored else stage
            plan: EpochPlan = plan_epoch(
                con, self.config.data, run_id=self.run_id, epoch=epoch, stage=planned_stage,
                seed=self.config.seed,
            )  # fmt: skip
        if stored:  # resumed: the stored set rules; the plan (same history) says what it left out
            counts = {"kept": len(stored), **dict.fromkeys(HISTORIES, 0)}
            for problem in stored:
                counts[problem.history] = counts.get(problem.history, 0) + 1
            counts |= {"dropped": plan.dropped, "subsampled": plan.subsampled}
            self._load_texts(stored)
            return stored_stage, stored, counts
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

    # ------------------------------------------------------------- writes inside the loop

    def write_step(self, rows: list[rollouts.RolloutRow], *, stage: int, epoch: int, step: int) -> None:
        """Record one step's rollouts and the run's new position (buffered; see the class)."""
        self._rows.extend(rows)
        self._position(stage=stage, epoch=epoch, step=step)
        now = time.monotonic()
        wait = self.config.logging.rollout_write_interval_s
        if self._locked_since is not None:
            wait = max(wait, LOCKED_RETRY_S)
        if now - self._written_at >= wait:
            self._held(lambda: self._write(self._quick))

    def stage_switch(self, *, step: int, reason: str) -> None:
        self._state["stage_switch"] = {"step": step, "reason": reason}
        self._held(lambda: self._write(self._quick))

    def checkpoint(self, path: Path, *, stage: int, epoch: int, step: int) -> None:
        """Record a saved checkpoint, with the rollouts of the steps it covers."""
        self._position(stage=stage, epoch=epoch, step=step, checkpoint=str(path))
        self._held(lambda: self._write(self._quick))

    def flush(self) -> bool:
        """Write the buffered rollouts and the run's state now, waiting for the catalog as long
        as any command does; False when it stayed locked and they went to the spool."""
        return self._write(self.catalog)

    def finish(self, status: str, notes: dict[str, Any]) -> None:
        self._state["finish"] = {"status": status, "notes": notes}
        try:
            if not self.flush():
                log.warning(
                    "catalog %s is still locked at the end of run %s: %d rollouts and the run's status "
                    "wait in %s; the next srpo-train or srpo-curate command on this catalog writes them",
                    self.catalog.path, self.run_id, self.spool.rows(), self.spool.directory,
                )  # fmt: skip
        except Exception:
            if status == "completed":
                raise
            # A failing run is being closed: its own error is the one to report.
        finally:
            self.spool.release()

    def raise_failure(self) -> None:
        """Raise the failure a write inside the loop held, if any."""
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure

    def _position(self, *, stage: int, epoch: int, step: int, checkpoint: str | None = None) -> None:
        kept = self._state.get("position", {}).get("checkpoint")
        where = {"stage": stage, "epoch": epoch, "step": step, "checkpoint": checkpoint or kept}
        self._state["position"] = where

    def _held(self, write: Callable[[], Any]) -> None:
        try:
            write()
        except Exception as error:  # raised where every rank hears of it (raise_failure)
            self.failure = self.failure or error

    def _write(self, catalog: Catalog) -> bool:
        """One transaction: the spool (older rows first), the buffered rows, the run's state.
        When the catalog is locked, the rows and state go to the spool instead; returns whether
        they reached the catalog."""
        if not self._rows and not self._state and not self.spool.pending():
            return True
        table = rollouts.rollout_table(self._rows) if self._rows else None
        try:
            with catalog.writer() as con:
                self.spool.land(con)
                if table is not None:
                    rollouts.insert_rollout_table(con, table)
                spool.apply_state(con, self.run_id, self._state)
        except CatalogLockedError as error:
            self.spool.spill(table, self._state)
            if self._locked_since is None:
                log.warning("%s; rollouts go to %s until it frees", error, self.spool.directory)
                self._locked_since = time.monotonic()
            self._rows, self._state, self._written_at = [], {}, time.monotonic()
            return False
        self.spool.clear()
        if self._locked_since is not None:
            log.warning("catalog %s is free again: the spooled rollouts are written", catalog.path)
        self._rows, self._state, self._locked_since = [], {}, None
        self._written_at = time.monotonic()
        return True

    def _write_now(self) -> None:
        """Write everything buffered and spooled, or raise CatalogLockedError."""
        if not self._write(self.catalog):
            raise CatalogLockedError(f"catalog {self.catalog.path} is locked")

    def _patiently(self, work: Callable[[], T], what: str) -> T:
        """`work`, retried while another process holds the catalog: this work cannot go on
        without it (the history query, the resume), and giving up would lose the run."""
        while True:
            try:
                return work()
            except CatalogLockedError as error:
                log.warning("%s waits for the catalog: %s", what, error)
                time.sleep(PATIENT_PAUSE_S)
