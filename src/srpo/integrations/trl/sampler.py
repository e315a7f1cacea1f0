"""History resampling for TRL: each epoch of a `GRPOTrainer` run trains on the set srpo's query
chooses (solved problems dropped), in srpo's order, instead of a shuffle of the whole dataset.

`HistoryResamplingSampler` is the trainer's training sampler. When an epoch starts (the trainer
tells it the epoch through `set_epoch`, as it does any sampler) it has every completion of the
run written, then takes the epoch's set from `epochs.start_epoch` (stored, or planned and
stored) and yields the positions of those problems in the trainer's dataset the way TRL's own
`RepeatSampler` does: chunks of `generation_batch_size / num_generations` prompts, each prompt
`num_generations` times in a row (one GRPO group), each chunk `num_iterations x
steps_per_generation` times; a last incomplete chunk is left out. In a distributed run the
main process plans and stores, the others read the stored set.

`use_history_resampling(trainer, log)` installs it on a `GRPOTrainer` (through the trainer's
`_get_train_sampler`, the hook TRL's own sampler comes from). The dataset must carry a
`problem_id` column (`srpo-curate query --export trl` writes one).

Covers: the training order. Does not cover: planning (`srpo.integrations.epochs`), recording
(`callback`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from srpo.errors import InputError
from srpo.integrations.epochs import StartedEpoch, follow_epoch, problem_order, start_epoch

if TYPE_CHECKING:
    from srpo.catalog import Catalog
    from srpo.integrations.recorder import RunRecorder
    from srpo.integrations.trl.callback import CompletionLog


class HistoryResamplingSampler:
    """TRL's group-repeating order over srpo's epoch sets (see the module docstring)."""

    def __init__(
        self,
        problem_ids: Sequence[str],
        *,
        group_size: int,
        prompts_per_generation: int,
        repeat_count: int,
        recorder: RunRecorder | None,
        catalog: Catalog,
        run_id: str,
    ) -> None:
        if group_size < 1 or prompts_per_generation < 1 or repeat_count < 1:
            raise InputError("group size, prompts per generation and repeat count must be at least 1")
        self.positions: dict[str, int] = {}
        for position, problem_id in enumerate(problem_ids):
            self.positions.setdefault(str(problem_id), position)
        self.group_size = group_size
        self.prompts_per_generation = prompts_per_generation
        self.repeat_count = repeat_count
        self.recorder = recorder
        self.catalog = catalog
        self.run_id = run_id
        self.epoch = 0
        self.started: StartedEpoch | None = None
        self._order: list[int] | None = None

    def set_epoch(self, epoch: int) -> None:
        """The trainer's epoch (HF Trainer calls it before each epoch, counting from 0, and from
        the checkpoint's epoch on a resume)."""
        if epoch != self.epoch:
            self.epoch, self._order = epoch, None

    def _chunks(self) -> list[list[int]]:
        if self._order is None:
            if self.recorder is not None:
                self.started = start_epoch(self.recorder, self.epoch)
            else:
                self.started = follow_epoch(self.catalog, self.run_id, self.epoch)
            self._order = problem_order(self.started.problems, self.positions, where=f"run {self.run_id}")
        size = self.prompts_per_generation
        chunks = [self._order[i : i + size] for i in range(0, len(self._order), size)]
        return [chunk for chunk in chunks if len(chunk) == size]

    def __len__(self) -> int:
        return len(self._chunks()) * self.prompts_per_generation * self.group_size * self.repeat_count

    def __iter__(self) -> Iterator[int]:
        chunks = self._chunks()
        for chunk in chunks:
            for _ in range(self.repeat_count):
                for index in chunk:
                    for _ in range(self.group_size):
                        yield index
        # Without a set_epoch call the next pass is the next epoch.
        self.epoch, self._order = self.epoch + 1, None


def dataset_problem_ids(dataset: Any) -> list[str]:
    """The `problem_id` column of a TRL training dataset (a `datasets.Dataset` or a sequence of
    rows), refused in one line when it has none."""
    names = getattr(dataset, "column_names", None)
    if names is not None:
        if "problem_id" not in names:
            raise InputError(
                "history resampling needs a problem_id column in the training dataset "
                "(`srpo-curate query --export trl` writes one)"
            )
        return [str(pid) for pid in dataset["problem_id"]]
    ids = []
    for index, row in enumerate(dataset):
        if not isinstance(row, dict) or row.get("problem_id") is None:
            raise InputError(f"training dataset row {index}: no problem_id (history resampling needs one)")
        ids.append(str(row["problem_id"]))
    return ids


def use_history_resampling(
    trainer: Any, log: CompletionLog, recorder: RunRecorder | None, catalog: Catalog
) -> HistoryResamplingSampler:
    """Make `trainer` (a `trl.GRPOTrainer`) take its epochs from srpo's query."""
    if not hasattr(trainer, "_get_train_sampler") or not hasattr(trainer, "num_generations"):
        raise InputError("use_history_resampling needs a trl.GRPOTrainer (no _get_train_sampler hook found)")
    args = trainer.args
    sampler = HistoryResamplingSampler(
        dataset_problem_ids(trainer.train_dataset),
        group_size=trainer.num_generations,
        prompts_per_generation=args.generation_batch_size // trainer.num_generations,
        repeat_count=trainer.num_iterations * args.steps_per_generation,
        recorder=recorder,
        catalog=catalog,
        run_id=log.run_id,
    )
    # The hook TRL builds its RepeatSampler in; every training dataloader asks it.
    trainer._get_train_sampler = lambda dataset=None: sampler
    log.resampled = True
    return sampler
