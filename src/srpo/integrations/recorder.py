"""A peer trainer's run in the catalog: its `runs` row, every completion in `rollouts`, and the
problems each epoch drew in `epoch_problems`, written in short transactions.

`RunRecorder` starts a run of kind `trl`, `verl` or `openrlhf` (or continues one: same id, same
kind, same resampling settings), numbers each problem's samples within an epoch, buffers the
rows and writes them in one short transaction at most every `write_interval_s` (each write
opens the file and holds its lock for milliseconds, so `srpo-curate` commands can read between
writes). The stored run config holds the `data` section and `seed`, so
`srpo-curate query --next-epoch RUN` computes the next set the way srpo-train would.

Epochs: a trainer that takes its epochs from srpo (the TRL and verl samplers) stores each
epoch's set when it starts (`epochs.start_epoch`). For one that does not (TRL's own sampler,
the OpenRLHF reward server), the first completion of a problem in an epoch adds the problem to
that epoch's set, with its history in the run: `new`, or how its latest earlier epoch went
(`mixed`, `all_wrong`, or `solved`: the trainer drew it again though srpo would have dropped
it). The epoch of a completion is the trainer's (`Completion.epoch`), else the recorder's
current one, else (with `group_size`, for trainers that never say) the problem's visit: its
first `group_size` samples are epoch 0, the next epoch 1, ...

Thread-safe (the reward server records from many threads). Covers: the catalog writes of peer
runs. Does not cover: grading (`scoring`) or planning epochs (`epochs`).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.catalog import Catalog, rollouts, runs
from srpo.catalog.records import utcnow
from srpo.errors import InputError
from srpo.integrations.config import RunConfig

if TYPE_CHECKING:
    import duckdb

# The settings that decide what the run's epochs hold: a continued run must keep them.
IDENTITY_KEYS = ("data", "seed", "stage")

_HISTORY_SQL = """
INSERT INTO epoch_problems BY NAME
SELECT n.run_id, n.epoch, n.position, n.problem_id, n.domain, n.stage, coalesce(h.history, 'new') AS history
FROM srpo_new_pairs n LEFT JOIN (
    SELECT p.epoch, p.problem_id,
           CASE WHEN count(*) FILTER (r.status = 'correct') = count(*) THEN 'solved'
                WHEN count(*) FILTER (r.status = 'correct') = 0 THEN 'all_wrong'
                ELSE 'mixed' END AS history
    FROM srpo_new_pairs p JOIN rollouts r ON r.run_id = p.run_id AND r.problem_id = p.problem_id
    WHERE r.epoch = (SELECT max(x.epoch) FROM rollouts x
                     WHERE x.run_id = p.run_id AND x.problem_id = p.problem_id AND x.epoch < p.epoch)
    GROUP BY p.epoch, p.problem_id
) h ON h.epoch = n.epoch AND h.problem_id = n.problem_id
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """One graded completion, as a trainer integration hands it over."""

    problem_id: str
    domain: str
    reward: float
    status: str
    """The grade's status (correct, wrong, no_answer, timeout, error): resampling reads it."""
    response_tokens: int | None = None
    finish_reason: str | None = None
    """stop or length (cut at the trainer's limit); None when the trainer does not say."""
    response: str | None = None
    extracted: str | None = None
    epoch: int | None = None
    """None: the recorder's current epoch (or the visit, with `group_size`)."""
    step: int | None = None


def new_run_id(kind: str) -> str:
    return f"{kind}-{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


class RunRecorder:
    """The catalog record of one peer-trainer run (see the module docstring)."""

    def __init__(
        self,
        config: RunConfig,
        *,
        kind: str,
        settings: Mapping[str, Any] | None = None,
        group_size: int | None = None,
    ) -> None:
        config.validate()
        if kind not in runs.PEER_TRAINER_KINDS:
            raise InputError(f"kind must be one of {', '.join(runs.PEER_TRAINER_KINDS)}, got {kind!r}")
        self.config = config
        self.kind = kind
        self.group_size = group_size
        self.catalog = Catalog.open(config.catalog)
        self.run_id = config.run_id or new_run_id(kind)
        self.epoch = 0
        self.step: int | None = None
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()  # one write at a time, in order (histories read earlier rows)
        self._rows: list[rollouts.RolloutRow] = []
        self._pairs: list[tuple[int, int, str, str]] = []  # epoch, position, problem, domain
        self._next_sample: dict[tuple[int, str], int] = {}
        self._visits: dict[str, int] = {}
        self._known_pairs: set[tuple[int, str]] = set()
        self._next_position: dict[int, int] = {}
        self._planned: set[int] = set()
        self._written_at = time.monotonic()
        self._start(dict(settings or {}))

    # ------------------------------------------------------------------------------ the run row

    def stored_config(self, settings: dict[str, Any]) -> dict[str, Any]:
        from srpo.config import to_dict

        stored = to_dict(self.config)
        stored["run_id"] = self.run_id
        stored["trainer"] = settings
        return stored

    def _start(self, settings: dict[str, Any]) -> None:
        stored = self.stored_config(settings)
        with self.catalog.writer() as con:
            existing = runs.get_run(con, self.run_id)
            if existing is None:
                runs.start_run(con, self.run_id, kind=self.kind, model=self.config.model, config=stored)
                runs.set_position(con, self.run_id, stage=self.config.stage, epoch=0, step=0)
                return
            self._check_continued(existing, stored)
            runs.mark_run(con, self.run_id, status="running")
            self._load(con)

    def _check_continued(self, existing: runs.RunRecord, stored: dict[str, Any]) -> None:
        if existing.kind != self.kind:
            raise InputError(
                f"run_id {self.run_id}: that run is of kind {existing.kind!r}, not {self.kind!r}"
            )
        for key in IDENTITY_KEYS:
            if existing.config.get(key) != stored.get(key):
                raise InputError(
                    f"run_id {self.run_id}: the run was started with {key} = "
                    f"{json.dumps(existing.config.get(key))}, not {json.dumps(stored.get(key))}; "
                    "continue it with the same settings or start a new run"
                )

    def _load(self, con: duckdb.DuckDBPyConnection) -> None:
        """What a continued run already holds: sample numbers, visits, epoch sets, position."""
        rows = con.execute(
            "SELECT epoch, problem_id, count(*), max(sample_idx) FROM rollouts WHERE run_id = ? GROUP BY ALL",
            [self.run_id],
        ).fetchall()
        for epoch, problem_id, count, last in rows:
            self._next_sample[(epoch, problem_id)] = last + 1
            self._visits[problem_id] = self._visits.get(problem_id, 0) + count
        for epoch, problem_id, position in con.execute(
            "SELECT epoch, problem_id, position FROM epoch_problems WHERE run_id = ?", [self.run_id]
        ).fetchall():
            self._known_pairs.add((epoch, problem_id))
            self._next_position[epoch] = max(self._next_position.get(epoch, 0), position + 1)
        position = runs.run_position(con, self.run_id)
        if position is not None:
            self.epoch, self.step = position.epoch, position.step

    # ----------------------------------------------------------------------------- completions

    def record(self, completions: Sequence[Completion], *, flush: bool = True) -> None:
        """Number and buffer completions; written at the next flush (here when `flush` and
        `write_interval_s` has passed; a server passes False and flushes from its own thread)."""
        with self._lock:
            for completion in completions:
                self._buffer(completion)
        if flush:
            self.maybe_flush()

    def _buffer(self, c: Completion) -> None:
        visits = self._visits.get(c.problem_id, 0)
        if c.epoch is not None:
            epoch = c.epoch
        elif self.group_size:
            epoch = visits // self.group_size
        else:
            epoch = self.epoch
        sample = self._next_sample.get((epoch, c.problem_id), 0)
        self._next_sample[(epoch, c.problem_id)] = sample + 1
        self._visits[c.problem_id] = visits + 1
        if (epoch, c.problem_id) not in self._known_pairs:
            self._known_pairs.add((epoch, c.problem_id))
            if epoch not in self._planned:  # a planned epoch's set is stored already
                position = self._next_position.get(epoch, 0)
                self._next_position[epoch] = position + 1
                self._pairs.append((epoch, position, c.problem_id, c.domain))
        keep = self.config.store_responses
        self._rows.append(
            rollouts.RolloutRow(
                run_id=self.run_id, problem_id=c.problem_id, sample_idx=sample, reward=float(c.reward),
                status=c.status, response_tokens=c.response_tokens, finish_reason=c.finish_reason,
                response=c.response if keep else None, extracted=c.extracted if keep else None,
                epoch=epoch, stage=self.config.stage, step=c.step,
            )
        )  # fmt: skip
        if c.step is not None:
            self.step = max(self.step or 0, c.step)
        if self.group_size and epoch > self.epoch:
            self.epoch = epoch

    def maybe_flush(self) -> None:
        if time.monotonic() - self._written_at >= self.config.write_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered now, in one transaction. Completions recorded meanwhile wait
        only for the buffers to be swapped, not for the write; a failed write (a catalog locked
        for too long) puts the rows back, to be written by the next flush."""
        with self._write_lock:
            with self._lock:
                rows, pairs, self._rows, self._pairs = self._rows, self._pairs, [], []
                epoch, step = self.epoch, self.step or 0
                self._written_at = time.monotonic()
            if not rows and not pairs:
                return
            try:
                with self.catalog.writer() as con:
                    rollouts.insert_rollouts(con, rows)
                    self._insert_pairs(con, pairs)
                    runs.set_position(con, self.run_id, stage=self.config.stage, epoch=epoch, step=step)
            except BaseException:
                with self._lock:
                    self._rows, self._pairs = rows + self._rows, pairs + self._pairs
                raise

    def _insert_pairs(self, con: duckdb.DuckDBPyConnection, pairs: list[tuple[int, int, str, str]]) -> None:
        if not pairs:
            return
        import pyarrow as pa

        table = pa.table(
            {
                "run_id": pa.array([self.run_id] * len(pairs), pa.string()),
                "epoch": pa.array([p[0] for p in pairs], pa.int32()),
                "position": pa.array([p[1] for p in pairs], pa.int32()),
                "problem_id": pa.array([p[2] for p in pairs], pa.string()),
                "domain": pa.array([p[3] for p in pairs], pa.string()),
                "stage": pa.array([self.config.stage] * len(pairs), pa.int32()),
            }
        )
        con.register("srpo_new_pairs", table)
        try:
            con.execute(_HISTORY_SQL)
        finally:
            con.unregister("srpo_new_pairs")

    # ---------------------------------------------------------------------------------- epochs

    def mark_planned(self, epoch: int, problem_ids: Sequence[str]) -> None:
        """`epoch`'s set was stored by the resampling query: completions add nothing to it."""
        with self._lock:
            self._planned.add(epoch)
            self._known_pairs.update((epoch, pid) for pid in problem_ids)
            self.epoch = epoch

    def set_epoch(self, epoch: int) -> None:
        """The epoch completions without their own belong to from now on."""
        with self._lock:
            self.epoch = epoch

    def finish(self, status: str = "completed", notes: dict[str, Any] | None = None) -> None:
        """Write what is buffered and close the run row (completed, failed, interrupted)."""
        try:
            self.flush()
        finally:
            with self.catalog.writer() as con:
                runs.mark_run(con, self.run_id, status=status, notes=notes)
