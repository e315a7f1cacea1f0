"""The training loop: epochs from the catalog, GRPO steps on DeepSpeed, checkpoints, the stages.

An epoch is the problem set the history-resampling query gives (`resampling`), stored in the
catalog when it starts; it is trained `data.prompts_per_step` problems per step (`step`).
After each step the stage switch may move the run to stage 2, which ends the epoch: the next epoch
is planned with stage 2's domains from the history so far. When stage 1 has no problem left
(every one solved), the run moves to stage 2; when stage 2 has none, it ends.

Rank 0 does all catalog I/O (`catalog_record.CatalogRecord`) and sends what the other ranks need (the
epoch's problems, each step's problem texts) with object broadcasts.

Covers: set-up, resume, the loop, checkpoints, the end of a run. Does not cover: one step
(`step`), the loss (`objective`, `update`) or the data query (`resampling`).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.config import to_dict
from srpo.errors import SrpoError
from srpo.train import distributed
from srpo.train.catalog_record import CatalogRecord, new_run_id
from srpo.train.checkpoint import TrainerState, export_model, load_checkpoint, save_checkpoint
from srpo.train.metrics import MetricsLog
from srpo.train.resampling import HISTORIES
from srpo.train.stages import StageSwitch

if TYPE_CHECKING:
    from collections.abc import Callable

    from srpo.catalog import Catalog
    from srpo.train.config import TrainConfig
    from srpo.train.resampling import ProblemText
    from srpo.train.step import StepContext

log = logging.getLogger("srpo.train")

RESAMPLE_KEYS = ("kept", *HISTORIES, "dropped", "subsampled")
"""The resample/* metrics of every step (`resampling.EpochPlan.counts` plus `kept`)."""


@dataclass(slots=True)
class TrainReport:
    """What one invocation of the trainer did."""

    run_id: str
    output_dir: Path
    status: str = "running"
    stop_reason: str = ""
    """max_steps, max_epochs, max_rollouts or no_problems (every problem solved)."""
    first_step: int = 0
    last_step: int = 0
    rewards: list[float] = field(default_factory=list)
    """Mean reward of each step of this invocation."""
    stage_switch_step: int | None = None
    resumed_from: str | None = None
    rollouts_forgotten: int = 0
    """Rollouts recorded after the resumed checkpoint, deleted so no data is replayed."""


@dataclass(slots=True)
class _Epoch:
    number: int
    stage: int
    problem_ids: list[str]
    counts: dict[str, int]


class Trainer:
    """One training run on this process (every rank builds one)."""

    def __init__(
        self,
        catalog: Catalog | str | Path,
        model: str,
        config: TrainConfig,
        *,
        run_id: str | None = None,
        resume: str | None = None,
    ) -> None:
        from srpo.catalog import Catalog
        from srpo.train.policy import load_policy

        distributed.init_processes()
        _seed_everything(config.seed + distributed.rank())
        run_id = distributed.broadcast(resume or run_id or new_run_id())
        self.output_dir = Path(config.output_dir.replace("{run_id}", run_id)).resolve()
        self.config = config = replace(config, output_dir=str(self.output_dir))
        self.model_path = model
        self.record: CatalogRecord | None = None
        started: tuple[str | None] | SrpoError = (None,)
        if distributed.is_main():  # only rank 0 touches the catalog
            try:
                opened = catalog if isinstance(catalog, Catalog) else Catalog.open(catalog)
                self.record = CatalogRecord(opened, run_id, config)
                position = self.record.start(
                    model=model, stored_config=to_dict(config), resume=resume is not None
                )
                started = (position.checkpoint if position else None,)
            except SrpoError as error:
                started = error
        started = distributed.broadcast(started)  # an error stops every rank, not only rank 0
        if isinstance(started, SrpoError):
            raise started
        checkpoint = started[0]
        self.state = TrainerState(run_id=run_id, stage=config.stages.start_stage)
        self.stage_switch = StageSwitch(config.stages)
        self.report = TrainReport(run_id=run_id, output_dir=self.output_dir)
        self.metrics = MetricsLog(
            self.output_dir,
            config.logging,
            run_id=run_id,
            enabled=distributed.is_main(),
            run_config=to_dict(config),
        )
        self.policy = load_policy(model, config)
        if resume is not None:
            self._restore(checkpoint)
        self._epoch: _Epoch | None = None

    def _restore(self, checkpoint: str | None) -> None:
        """Continue from the run's latest checkpoint (or from the start if it has none), and
        forget what the catalog and the metrics recorded after it."""
        if checkpoint:
            self.state = load_checkpoint(self.policy.engine, Path(checkpoint))
            self.stage_switch.restore(self.state.stage_switch)
            self.report.resumed_from = checkpoint
        state = self.state
        self.report.rollouts_forgotten = self._from_main(
            lambda record: record.rewind(
                step=state.step,
                epoch=state.epoch if checkpoint else -1,
                stage=state.stage,
                checkpoint=checkpoint,
            )
        )
        self.metrics.truncate_after(state.step)
        log.info(
            "resuming %s after step %d (epoch %d, stage %d)",
            state.run_id,
            state.step,
            state.epoch,
            state.stage,
        )

    # -------------------------------------------------------------------------------- loop

    def run(self, on_step: Callable[[dict[str, Any]], None] | None = None) -> TrainReport:
        from srpo.train.policy import RolloutSide
        from srpo.train.step import StepContext
        from srpo.verify.grading import Grader

        self.report.first_step = self.state.step + 1
        status = "failed"
        rollouts = None
        try:
            rollouts = RolloutSide(self.policy, self.config, model_path=self.model_path)
            if self.state.step > 0:
                rollouts.sync()  # resumed: a vLLM engine loaded the initial weights from disk
            with Grader(self.config.grader) as grader:
                context = StepContext(self.config, self.policy, rollouts, grader, self.record)
                self.report.stop_reason = self._loop(context, on_step)
            self._finish_files()
            # Every rollout is in the catalog (or, if it stayed locked, in the run's spool).
            self._from_main(lambda record: record.flush())
            status = "completed"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            if rollouts is not None:
                rollouts.close()
            self._close(status)
        return self.report

    def _loop(self, context: StepContext, on_step: Callable[[dict[str, Any]], None] | None) -> str:
        from srpo.train.step import run_step

        config, state = self.config, self.state
        while state.step < config.budget.max_steps:
            if config.budget.max_epochs is not None and state.epoch >= config.budget.max_epochs:
                return "max_epochs"
            epoch = self._current_epoch()
            if not epoch.problem_ids:
                if state.stage == 1:
                    self._switch_stage("exhausted")
                    continue
                return "no_problems"
            size = config.data.prompts_per_step
            ids = epoch.problem_ids[state.batch_in_epoch * size : (state.batch_in_epoch + 1) * size]
            if config.data.mode == "dynamic":  # dynamic sampling takes what it needs, not batches
                ids = epoch.problem_ids[state.taken_in_epoch : state.taken_in_epoch + size]
            if not ids:
                state.next_epoch()
                continue
            if not config.budget.allows(state.generated, len(ids) * config.sampling.n):
                return "max_rollouts"
            problems = self._texts(ids)
            state.step += 1
            metrics = run_step(context, state, problems, more=partial(self._more, epoch))
            # The same keys on every step, resumed or not (a stored epoch's counts may lack some).
            metrics |= {f"resample/{key}": epoch.counts.get(key, 0) for key in RESAMPLE_KEYS}
            state.batch_in_epoch += 1
            self._after_step(metrics, on_step)
        return "max_steps"

    def _texts(self, ids: list[str]) -> list[ProblemText]:
        """The problems' texts from rank 0, on every rank; they count as taken from the epoch."""
        self.state.taken_in_epoch += len(ids)
        return self._from_main(lambda record: record.texts(ids))

    def _more(self, epoch: _Epoch, count: int) -> list[ProblemText]:
        """Up to `count` more of the epoch's problems, for dynamic sampling's next round."""
        taken = self.state.taken_in_epoch
        return self._texts(epoch.problem_ids[taken : taken + count]) if taken < len(epoch.problem_ids) else []

    def _after_step(self, metrics: dict[str, Any], on_step: Callable[[dict[str, Any]], None] | None) -> None:
        state = self.state
        self.report.rewards.append(metrics["reward/mean"])
        accuracy = metrics["accuracy/mean"]
        reason = self.stage_switch.observe(stage=state.stage, step=state.step, accuracy=accuracy)
        if reason is None and state.stage == 1 and self.config.stages.rollouts_reached(state.generated):
            reason = "rollouts"
        if reason is not None:
            metrics["stage_switch"] = reason
            self._switch_stage(reason)
        self.metrics.log(state.step, metrics)
        if on_step is not None and distributed.is_main():
            on_step(metrics)
        every = self.config.checkpoint.every_steps
        if every and state.step % every == 0:
            self._save()

    def _current_epoch(self) -> _Epoch:
        """The epoch in progress: stored, or planned by the resampling query (rank 0)."""
        state = self.state
        if self._epoch is None or self._epoch.number != state.epoch:
            stage, problems, counts = self._from_main(
                lambda record: record.epoch(epoch=state.epoch, stage=state.stage, step=state.step)
            )
            self._epoch = _Epoch(state.epoch, stage, [p.problem_id for p in problems], counts)
            if problems:
                state.stage = stage
                log.info("epoch %d (stage %d): %s", state.epoch, stage, counts)
        return self._epoch

    def _from_main(self, ask: Callable[[CatalogRecord], Any]) -> Any:
        """Rank 0's answer from the catalog, on every rank. A failure there (now, or held from a
        write since the last call) stops every rank with its message instead of leaving the
        others waiting in the next collective."""
        answer: Any = None
        failure: Exception | None = None
        if self.record is not None:
            try:
                self.record.raise_failure()
                answer = ask(self.record)
            except Exception as error:
                failure = error
                sent = (
                    error
                    if isinstance(error, SrpoError)
                    else SrpoError(f"rank 0: {type(error).__name__}: {error}")
                )
                answer = _Failed(sent)
        answer = distributed.broadcast(answer)
        if failure is not None:
            raise failure
        if isinstance(answer, _Failed):
            raise answer.error
        return answer

    def _switch_stage(self, reason: str) -> None:
        """Stage 2 from the next epoch on: the current epoch ends here."""
        state = self.state
        log.info("after step %d: switching to stage 2 (%s)", state.step, reason)
        state.stage = 2
        state.next_epoch()
        self.report.stage_switch_step = state.step
        if self.record is not None:
            self.record.stage_switch(step=state.step, reason=reason)

    # ---------------------------------------------------------------------------- the end

    def _save(self) -> None:
        state = self.state
        state.stage_switch = self.stage_switch.state()
        keep = self.config.checkpoint.keep_last
        path = save_checkpoint(self.policy.engine, self.output_dir, state, keep_last=keep)
        if self.record is not None:
            self.record.checkpoint(path, stage=state.stage, epoch=state.epoch, step=state.step)

    def _finish_files(self) -> None:
        checkpoint = self.config.checkpoint
        if checkpoint.at_end and (not checkpoint.every_steps or self.state.step % checkpoint.every_steps):
            self._save()
        if checkpoint.save_model:
            zero_stage = self.config.deepspeed.zero_stage
            export_model(
                self.policy.engine, self.policy.tokenizer, self.output_dir / "model", zero_stage=zero_stage
            )

    def _close(self, status: str) -> None:
        self.report.status = status
        self.report.last_step = self.state.step
        self.metrics.close()
        if self.record is not None:
            notes = {"stop_reason": self.report.stop_reason, "steps": self.state.step,
                     "output_dir": str(self.output_dir)}  # fmt: skip
            self.record.finish(status, notes)


@dataclass(frozen=True, slots=True)
class _Failed:
    """Rank 0's failure, as sent to the other ranks."""

    error: SrpoError


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def train(
    catalog: Catalog | str | Path,
    model: str,
    config: TrainConfig,
    *,
    run_id: str | None = None,
    resume: str | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> TrainReport:
    """Train `model` on the catalog's problems with `config`; `resume` continues a run by id.

    Every rank calls this; only rank 0 opens the catalog (a path is opened there).
    """
    return Trainer(catalog, model, config, run_id=run_id, resume=resume).run(on_step)
