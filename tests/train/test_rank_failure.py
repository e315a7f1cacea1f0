"""A failure of rank 0's catalog work inside the loop stops every rank with its message: the other
rank does not wait in a collective for a rank 0 that is gone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import make_catalog, query
from .test_train_cli import CONFIG_YAML, _free_port

pytestmark = pytest.mark.slow


def test_a_rank_zero_failure_in_the_loop_stops_both_ranks(taught_model, tmp_path):
    catalog = make_catalog(tmp_path)
    config = tmp_path / "train.yaml"
    config.write_text(CONFIG_YAML.format(out=tmp_path / "out"))
    # The query of the first epoch fails on rank 0 only (the other rank never reads the catalog).
    command = [
        sys.executable, "-m", "srpo.cli.train", "--from-catalog", str(catalog.path), "--model", str(taught_model),
        "--config", str(config), "--run-id", "broken", "--set", "data.where=no_such_column = 1",
    ]  # fmt: skip
    # Two ranks started by hand, not by a launcher that would kill the survivor: a rank left
    # waiting for rank 0 would hang here until the timeout.
    port = str(_free_port())
    ranks = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={
            **os.environ, "OMP_NUM_THREADS": "1", "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port,
        })
        for rank in (0, 1)
    ]  # fmt: skip
    try:
        errors = [process.communicate(timeout=300)[1] for process in ranks]
    finally:
        for process in ranks:
            process.kill()
    for rank, (process, stderr) in enumerate(zip(ranks, errors, strict=True)):
        assert process.returncode != 0, f"rank {rank} did not fail"
        assert "srpo-train: error: data.where:" in stderr, f"rank {rank}: {stderr[-2000:]}"
    assert query(catalog, "SELECT status FROM runs WHERE run_id = 'broken'") == [("failed",)]
