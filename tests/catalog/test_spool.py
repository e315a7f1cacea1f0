"""The spool a training run leaves when the catalog stays locked: what it holds, landing it once
(and harmlessly twice), and `Catalog.open` merging the spools of runs that ended, never of a run
still holding its spool."""

from __future__ import annotations

import subprocess
import sys
import time

from srpo.catalog import Catalog
from srpo.catalog.rollouts import RolloutRow, rollout_table
from srpo.catalog.runs import TRAIN_KIND, get_run, run_position, set_position, start_run
from srpo.catalog.spool import SPOOL_DIR, Spool, merge_pending


def batch(run: str, step: int, problems: str) -> list[RolloutRow]:
    return [
        RolloutRow(run_id=run, problem_id=p, sample_idx=k, reward=float(k == 0), status="correct" if k == 0 else "wrong",
                   response_tokens=4, finish_reason="stop", epoch=0, stage=1, step=step)
        for p in problems
        for k in range(2)
    ]  # fmt: skip


def started(catalog, run: str, output) -> None:
    with catalog.writer() as con:
        start_run(con, run, kind=TRAIN_KIND, model="m", config={"output_dir": str(output)})
        set_position(con, run, stage=1, epoch=0, step=0)


def count(catalog, run: str) -> int:
    with catalog.reader() as con:
        return con.execute("SELECT count(*) FROM rollouts WHERE run_id = ?", [run]).fetchall()[0][0]


def test_a_spool_lands_once_with_the_runs_state(catalog, tmp_path):
    started(catalog, "r", tmp_path / "r")
    spool = Spool(tmp_path / "r" / SPOOL_DIR, "r")
    assert spool.hold()
    spool.spill(
        rollout_table(batch("r", 1, "ab")),
        {"position": {"stage": 1, "epoch": 0, "step": 1, "checkpoint": "ck1"}},
    )
    spool.spill(rollout_table(batch("r", 2, "cd")), {"position": {"stage": 1, "epoch": 0, "step": 2, "checkpoint": None},
                                                     "stage_switch": {"step": 2, "reason": "steps"}})  # fmt: skip
    assert [p.name for p in spool.batches()] == ["rollouts-000001.parquet", "rollouts-000002.parquet"]
    assert spool.rows() == 8 and spool.state()["position"] == {
        "stage": 1,
        "epoch": 0,
        "step": 2,
        "checkpoint": "ck1",
    }
    for _ in range(2):  # a merge cut after its commit and done again adds nothing
        with catalog.writer() as con:
            assert spool.land(con) in (8, 0)
    assert count(catalog, "r") == 8
    with catalog.reader() as con:
        where = run_position(con, "r")
    assert (where.stage, where.step, where.checkpoint, where.stage_switch_step) == (2, 2, "ck1", 2)
    spool.clear()
    spool.release()
    assert not spool.directory.exists()


def test_opening_the_catalog_merges_what_ended_runs_left(catalog, tmp_path):
    for run in ("ended", "live"):
        started(catalog, run, tmp_path / run)
        Spool(tmp_path / run / SPOOL_DIR, run).spill(
            rollout_table(batch(run, 1, "xyz")), {"finish": {"status": "completed", "notes": {"steps": 1}}}
        )
    live = Spool(tmp_path / "live" / SPOOL_DIR, "live")
    assert live.hold()  # its trainer is still running: nobody else may merge it
    reopened = Catalog.open(catalog.path)
    assert (count(reopened, "ended"), count(reopened, "live")) == (6, 0)
    with reopened.reader() as con:
        assert get_run(con, "ended").status == "completed" and get_run(con, "live").status == "running"
    assert not (tmp_path / "ended" / SPOOL_DIR).exists() and live.pending()
    live.release()
    assert merge_pending(reopened) == ["live"]
    assert count(reopened, "live") == 6


def test_a_spool_waits_while_another_process_holds_the_catalog(catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("SRPO_LOCK_TIMEOUT", "0.2")
    started(catalog, "r", tmp_path / "r")
    Spool(tmp_path / "r" / SPOOL_DIR, "r").spill(rollout_table(batch("r", 1, "a")), {})
    held = tmp_path / "held"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(catalog.path), str(held)], stdin=subprocess.PIPE
    )
    try:
        while not held.exists():
            assert holder.poll() is None
            time.sleep(0.02)
        assert merge_pending(Catalog(catalog.path)) == []  # never raises; the spool stays
        assert Spool(tmp_path / "r" / SPOOL_DIR, "r").pending()
    finally:
        holder.communicate(b"")  # closing stdin lets it go
    assert merge_pending(Catalog(catalog.path)) == ["r"]
    assert count(catalog, "r") == 2


# Opens the catalog for writing, says so, and holds it until its stdin closes.
HOLD = """
import sys, pathlib, duckdb
con = duckdb.connect(sys.argv[1])
pathlib.Path(sys.argv[2]).touch()
sys.stdin.read()
con.close()
"""
