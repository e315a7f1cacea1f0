"""Another process holding the catalog cannot stop a run: a second process holds a DuckDB write
connection on the catalog for longer than $SRPO_LOCK_TIMEOUT in the middle of training; the run
goes on (its writes wait in the spool, the next epoch waits for the file), and afterwards every
rollout is in `rollouts`. A run that ends with the file still locked leaves its spool, which the
next command that opens the catalog merges."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from srpo.catalog.spool import Spool
from srpo.train.trainer import train
from tests.helpers import run_cli

from .conftest import make_catalog, query, read_jsonl, small_config

pytestmark = pytest.mark.slow

# Waits for GO, opens the catalog for writing (no other process can open it while this runs),
# says so with HELD, and keeps it until RELEASE exists or HOLD_S seconds have passed.
HOLDER = """
import sys, time, pathlib, duckdb
path, go, held, release, hold_s = sys.argv[1:6]
while not pathlib.Path(go).exists():
    time.sleep(0.02)
con = duckdb.connect(path)
pathlib.Path(held).touch()
deadline = time.monotonic() + float(hold_s)
while time.monotonic() < deadline and not pathlib.Path(release).exists():
    time.sleep(0.02)
con.close()
"""


class Holder:
    def __init__(self, tmp: Path, catalog_path: Path, *, hold_s: float) -> None:
        self.go, self.held, self.release = tmp / "go", tmp / "held", tmp / "release"
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(catalog_path), str(self.go), str(self.held), str(self.release),
             str(hold_s)]
        )  # fmt: skip

    def take(self) -> None:
        """Start holding, and return once the lock is held."""
        self.go.touch()
        deadline = time.monotonic() + 60
        while not self.held.exists():
            assert self.process.poll() is None and time.monotonic() < deadline, "the holder did not start"
            time.sleep(0.02)

    def let_go(self) -> None:
        self.release.touch()
        self.process.wait(timeout=60)


def spooled(output: Path) -> list[Path]:
    return sorted((output / "catalog_spool").glob("rollouts-*.parquet"))


def test_training_survives_a_writer_holding_the_catalog(taught_model, tmp_path, monkeypatch):
    monkeypatch.setenv("SRPO_LOCK_TIMEOUT", "0.5")
    catalog = make_catalog(tmp_path)
    config = small_config(tmp_path / "out", "logging.rollout_write_interval_s=0", "budget.max_steps=4")
    output = tmp_path / "out" / "held"
    holder = Holder(tmp_path, catalog.path, hold_s=600)
    seen: dict[int, list[Path]] = {}

    def on_step(metrics: dict) -> None:
        seen[metrics["step"]] = spooled(output)
        if metrics["step"] == 1:
            holder.take()  # held through step 2 (its write waits 1 s, then spools)...
        if metrics["step"] == 2:  # ... and 3 s more, 6 times the lock timeout: epoch 1 waits for it
            threading.Timer(3.0, holder.release.touch).start()

    try:
        report = train(catalog, str(taught_model), config, run_id="held", on_step=on_step)
    finally:
        holder.let_go()
    assert (report.status, report.last_step) == ("completed", 4)
    assert seen[2], "step 2's rollouts waited in the spool while the catalog was held"
    lines = read_jsonl(output / "metrics.jsonl")
    [(rows, steps)] = query(
        catalog, "SELECT count(*), count(DISTINCT step) FROM rollouts WHERE run_id = 'held'"
    )
    assert rows == sum(line["samples"] for line in lines) > 0 and steps == 4
    [(status, step, checkpoint)] = query(
        catalog, "SELECT status, step, checkpoint FROM runs WHERE run_id = 'held'"
    )
    assert (status, step) == ("completed", 4) and checkpoint.endswith("step-0000004")
    assert not (output / "catalog_spool").exists()  # landed and cleaned up
    counted = query(catalog, "SELECT sum(samples) FROM rollout_groups WHERE run_id = 'held'")
    assert counted == [(rows,)]


def test_a_run_that_ends_locked_leaves_its_spool_to_the_next_command(taught_model, tmp_path, monkeypatch):
    monkeypatch.setenv("SRPO_LOCK_TIMEOUT", "0.5")
    catalog = make_catalog(tmp_path)
    config = small_config(tmp_path / "out", "logging.rollout_write_interval_s=0", "budget.max_steps=2")
    output = tmp_path / "out" / "ended"
    holder = Holder(tmp_path, catalog.path, hold_s=600)

    def on_step(metrics: dict) -> None:
        if metrics["step"] == 1:
            holder.take()

    try:
        report = train(catalog, str(taught_model), config, run_id="ended", on_step=on_step)
        assert report.status == "completed"
        state = json.loads((output / "catalog_spool" / "run.json").read_text())
        assert state["finish"]["status"] == "completed" and state["position"]["step"] == 2
        assert spooled(output)
        left = Spool(output / "catalog_spool", "ended")
        assert left.hold(), "the ended run no longer locks its spool"
        left.release()
    finally:
        holder.let_go()
    samples = sum(line["samples"] for line in read_jsonl(output / "metrics.jsonl"))
    assert query(catalog, "SELECT count(*) FROM rollouts WHERE run_id = 'ended'") < [(samples,)]

    result = run_cli("stats", "--catalog", str(catalog.path))  # any command that opens the catalog
    assert result.returncode == 0, result.stderr
    assert "merged" in result.stderr and "run ended" in result.stderr
    assert query(catalog, "SELECT count(*) FROM rollouts WHERE run_id = 'ended'") == [(samples,)]
    [(status, step, checkpoint)] = query(
        catalog, "SELECT status, step, checkpoint FROM runs WHERE run_id = 'ended'"
    )
    assert (status, step) == ("completed", 2) and checkpoint.endswith("step-0000002")
    assert not (output / "catalog_spool").exists()
