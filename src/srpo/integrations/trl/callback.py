"""TRL completions into the catalog: every completion srpo's reward functions grade becomes a
`rollouts` row of a run of kind `trl` (run, epoch, stage, step, problem, sample, reward, status,
tokens, finish reason; the text with `store_responses`).

`CompletionLog` takes what `TRLRewards` graded (each completion once, whichever reward function
saw it first) and numbers it: the step is the optimiser step the completion trains
(`trainer_state.global_step + 1`), the epoch the sampler's (or, without srpo's sampler, the
trainer's epoch count), the finish reason `length` when the completion reached
`max_completion_length` tokens. In a distributed run each process grades its own share; at the
end of every step the shares are gathered to the main process, the only one that writes.

`catalog_callback(log)` is the `TrainerCallback` that drives it: gathers and writes in short
transactions at step ends (at most every `write_interval_s`), writes everything at epoch ends
(before the next epoch is planned) and closes the run row when training ends.

Covers: the TRL side of the record. Does not cover: the catalog writes themselves
(`srpo.integrations.recorder`) or grading (`rewards`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.integrations.recorder import Completion, RunRecorder

if TYPE_CHECKING:
    from srpo.integrations.scoring import Target
    from srpo.verify.grading import Grade


class CompletionLog:
    """Completions graded in this process on their way to the catalog (see the module
    docstring). `recorder` is None in processes other than the main one."""

    def __init__(
        self, recorder: RunRecorder | None, *, catalog_path: Path, run_id: str, world_size: int = 1
    ) -> None:
        self.recorder = recorder
        self.catalog_path = catalog_path
        self.run_id = run_id
        self.world_size = world_size
        self.max_completion_length: int | None = None
        self.resampled = False
        """srpo's sampler chooses the epochs (it sets the recorder's epoch when it plans one)."""
        self.unrecorded = 0
        """Completions graded without a problem_id column: rewarded, not recorded."""
        self._pending: list[Completion] = []
        self._batch_key: tuple[int, int] | None = None
        self._seen: set[int] = set()

    def add(
        self,
        *,
        batch: Sequence[Any],
        indices: Sequence[int],
        targets: Sequence[Target],
        grades: Sequence[Grade],
        texts: Sequence[str],
        completion_ids: Sequence[Sequence[int]] | None,
        trainer_state: Any,
    ) -> None:
        step = int(getattr(trainer_state, "global_step", 0)) + 1
        key = (id(batch), step)  # every reward function of one batch gets the same list
        if key != self._batch_key:
            self._batch_key, self._seen = key, set()
        rows = []
        for index, target, grade, text in zip(indices, targets, grades, texts, strict=True):
            if index in self._seen:
                continue
            self._seen.add(index)
            if target.problem_id is None:
                self.unrecorded += 1
                continue
            tokens = len(completion_ids[index]) if completion_ids is not None else None
            rows.append(
                Completion(
                    problem_id=str(target.problem_id), domain=target.domain, reward=grade.reward,
                    status=grade.status, response_tokens=tokens, finish_reason=self._finish(tokens),
                    response=text, extracted=grade.extracted, step=step,
                )
            )  # fmt: skip
        if self.world_size == 1 and self.recorder is not None:
            self.recorder.record(rows)
        else:
            self._pending.extend(rows)

    def _finish(self, tokens: int | None) -> str | None:
        if tokens is None:
            return None
        limit = self.max_completion_length
        return "length" if limit is not None and tokens >= limit else "stop"

    def exchange(self) -> None:
        """Hand the completions of every process to the main one (all processes must call it
        at the same point: it is a collective in a distributed run)."""
        rows, self._pending = self._pending, []
        if self.world_size > 1:
            from accelerate.utils import gather_object

            rows = list(gather_object(rows))
        if self.recorder is not None and rows:
            self.recorder.record(rows)

    def begin_epoch(self, epoch: int) -> None:
        if self.recorder is not None and not self.resampled:
            self.recorder.set_epoch(epoch)

    def step_end(self) -> None:
        self.exchange()
        if self.recorder is not None:
            self.recorder.maybe_flush()

    def epoch_end(self) -> None:
        self.exchange()
        if self.recorder is not None:
            self.recorder.flush()

    def train_end(self, status: str = "completed") -> None:
        self.exchange()
        if self.recorder is not None:
            notes = {"unrecorded_completions": self.unrecorded} if self.unrecorded else None
            self.recorder.finish(status, notes)


def catalog_callback(log: CompletionLog) -> Any:
    """The `transformers.TrainerCallback` that writes `log` to the catalog (see the module
    docstring)."""
    return _callback_class()(log)


@functools.cache
def _callback_class() -> type:
    from transformers import TrainerCallback

    class SrpoCatalogCallback(TrainerCallback):
        """Writes srpo-graded completions to the catalog (srpo.integrations.trl)."""

        def __init__(self, log: CompletionLog) -> None:
            self.log = log
            self._epoch: int | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.log.max_completion_length = getattr(args, "max_completion_length", None)

        def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            # The first epoch of this process is the trainer's (a resumed run is some epochs
            # in); later ones count on, even when an epoch ended early.
            self._epoch = math.floor((state.epoch or 0) + 1e-6) if self._epoch is None else self._epoch + 1
            self.log.begin_epoch(self._epoch)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.log.step_end()

        def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.log.epoch_end()

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.log.train_end()

    return SrpoCatalogCallback
