"""`srpo-train --help` and `srpo-curate query --help` start without the training stack."""

from __future__ import annotations

import subprocess
import sys

from ..conftest import run_cli

PROBE = (
    "import sys\n"
    "from srpo.cli import {module}\n"
    "try:\n    {module}.app({args!r}, prog_name='x')\n"
    "except SystemExit:\n    pass\n"
    "heavy = [m for m in ('torch', 'transformers', 'deepspeed', 'duckdb') if m in sys.modules]\n"
    "print('HEAVY', heavy)\n"
)


def test_train_help_names_every_option_and_imports_no_heavy_module():
    result = run_cli("--help", module="srpo.cli.train")
    assert result.returncode == 0
    for option in ("--from-catalog", "--model", "--config", "--set", "--resume", "--run-id"):
        assert option in result.stdout
    probe = PROBE.format(module="train", args=["--help"])
    assert "HEAVY []" in subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout


def test_query_help_shows_next_epoch_without_heavy_imports():
    assert "--next-epoch" in run_cli("query", "--help").stdout
    probe = PROBE.format(module="curate", args=["query", "--help"])
    assert "HEAVY []" in subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
