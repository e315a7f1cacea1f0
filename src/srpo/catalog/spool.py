"""A training run's catalog writes that could not land yet: its spool.

The trainer's rank 0 writes rollouts in short transactions. When another process holds the
catalog file longer than the trainer waits (a user's `query` left open, another command
writing), the writes neither stop the run nor stay in memory: they go to the run's spool, the
folder `catalog_spool/` in its output dir, which holds

- `rollouts-NNNNNN.parquet`: batches of `rollouts` rows in the order they were sampled, with
  the table's columns (`srpo.catalog.rollouts.rollout_table`);
- `run.json`: what the run's `runs` row must say once the rows are in: its latest position
  (stage, epoch, step, checkpoint), its switch to stage 2 and, when the run ended before the
  catalog freed, its final status and notes;
- `.lock`: locked (flock) by the trainer while it runs, so that no other process merges a spool
  that is still growing.

The trainer lands its spool itself with its next write that gets the file (`land`, then
`clear` once committed). A run that ends with the catalog still locked leaves its spool;
`merge_pending`, which `Catalog.open` calls, so every srpo-curate and srpo-train command does
it, lands the spools of train runs still marked running whose lock is free. Landing skips rows
the catalog already holds, so a merge cut between its commit and the clean-up repeats harmlessly.

Covers: the spool's files, landing them, finding the ones left behind. Does not cover: when the
trainer writes or spills (`srpo.train.catalog_record`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from srpo.catalog import rollouts, runs
from srpo.errors import CatalogError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

log = logging.getLogger("srpo.catalog")

SPOOL_DIR = "catalog_spool"
STATE_FILE = "run.json"
LOCK_FILE = ".lock"


class Spool:
    """The spool of run `run_id` in `directory` (`<output_dir>/catalog_spool`)."""

    def __init__(self, directory: Path, run_id: str) -> None:
        self.directory = directory
        self.run_id = run_id
        self._lock: IO[str] | None = None

    # -------------------------------------------------------------------------- the lock

    def hold(self) -> bool:
        """Lock the spool for this process (the trainer, or a merge); False if another holds it."""
        if self._lock is not None:
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        handle = (self.directory / LOCK_FILE).open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock = handle
        return True

    def release(self) -> None:
        """Unlock; an empty spool folder is removed with it."""
        if self._lock is None:
            return
        if not self.pending():
            with contextlib.suppress(OSError):
                (self.directory / LOCK_FILE).unlink()
                self.directory.rmdir()
        self._lock.close()  # closing drops the flock
        self._lock = None

    # ------------------------------------------------------------------------- the files

    def batches(self) -> list[Path]:
        return sorted(self.directory.glob("rollouts-*.parquet")) if self.directory.is_dir() else []

    def state(self) -> dict[str, Any]:
        path = self.directory / STATE_FILE
        return json.loads(path.read_text()) if path.is_file() else {}

    def pending(self) -> bool:
        return bool(self.batches()) or (self.directory / STATE_FILE).is_file()

    def rows(self) -> int:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(path).metadata.num_rows for path in self.batches())

    def spill(self, table: pa.Table | None, state: dict[str, Any]) -> None:
        """Add a batch of rows (in `rollout_table`'s shape) and the run's newest state. Each file
        is written aside and renamed, so a crash leaves whole files only."""
        import pyarrow.parquet as pq

        self.directory.mkdir(parents=True, exist_ok=True)
        if table is not None and table.num_rows:
            batches = self.batches()
            number = int(batches[-1].stem.split("-")[1]) + 1 if batches else 1
            target = self.directory / f"rollouts-{number:06d}.parquet"
            pq.write_table(table, target.with_suffix(".tmp"))
            os.replace(target.with_suffix(".tmp"), target)
        if state:
            spooled = self.state()
            merged = {**spooled, **state, "run_id": self.run_id}
            if "position" in state and not state["position"].get("checkpoint"):  # keep the last one saved
                merged["position"] = {
                    **state["position"],
                    "checkpoint": spooled.get("position", {}).get("checkpoint"),
                }
            target = self.directory / STATE_FILE
            target.with_suffix(".tmp").write_text(json.dumps(merged))
            os.replace(target.with_suffix(".tmp"), target)

    def land(self, con: duckdb.DuckDBPyConnection) -> int:
        """Write the spool into the catalog inside the caller's transaction; returns the rows
        added. The files stay until `clear` (call it once the transaction has committed)."""
        import pyarrow.parquet as pq

        added = 0
        for path in self.batches():
            added += rollouts.insert_rollout_table(con, pq.read_table(path), skip_stored=True)
        apply_state(con, self.run_id, self.state())
        return added

    def clear(self) -> None:
        for path in [*self.batches(), self.directory / STATE_FILE]:
            path.unlink(missing_ok=True)


def apply_state(con: duckdb.DuckDBPyConnection, run_id: str, state: dict[str, Any]) -> None:
    """Bring the run's row up to `state` (the keys `Spool.spill` and the trainer use)."""
    if "position" in state:
        where = state["position"]
        runs.set_position(con, run_id, stage=where["stage"], epoch=where["epoch"], step=where["step"],
                          checkpoint=where.get("checkpoint"))  # fmt: skip
    if "stage_switch" in state:  # after the position: the switch moves the run to stage 2
        switch = state["stage_switch"]
        runs.record_stage_switch(con, run_id, step=switch["step"], reason=switch["reason"])
    if "finish" in state:
        runs.mark_run(con, run_id, status=state["finish"]["status"], notes=state["finish"]["notes"])


# ---------------------------------------------------------------------------- left behind


def left_behind(con: duckdb.DuckDBPyConnection) -> list[Spool]:
    """Spools with something in them, of the catalog's train runs still marked running."""
    found = []
    for run_id, config in con.execute(
        "SELECT run_id, config FROM runs WHERE kind = ? AND status = 'running'", [runs.TRAIN_KIND]
    ).fetchall():
        output_dir = (json.loads(config) if config else {}).get("output_dir")
        if output_dir:
            spool = Spool(Path(output_dir) / SPOOL_DIR, run_id)
            if spool.pending():
                found.append(spool)
    return found


def merge_pending(catalog: Any) -> list[str]:
    """Land every spool a finished (or killed) training run left for `catalog` (a `Catalog`);
    returns the run ids merged. A spool whose trainer still runs is left to it; a catalog locked
    by someone else is left for the next command. Never raises for either."""
    try:
        with catalog.reader() as con:
            spools = left_behind(con)
    except CatalogError as error:  # locked (or unreadable): the next command will look again
        log.debug("spools not looked for: %s", error)
        return []
    merged = []
    for spool in spools:
        if not spool.hold():
            continue  # its trainer is alive and lands it itself
        try:
            if not spool.pending():  # landed by its trainer since we looked
                continue
            with catalog.writer() as con:
                added = spool.land(con)
            spool.clear()
            merged.append(spool.run_id)
            log.warning("merged %d spooled rollouts of run %s from %s", added, spool.run_id, spool.directory)
        except (CatalogError, OSError) as error:
            log.warning(
                "run %s left rollouts in %s; not merged yet: %s", spool.run_id, spool.directory, error
            )
        finally:
            spool.release()
    return merged
