"""Every command of `srpo-curate` and `srpo-train` has help, found by walking the apps' registries
(a new command is covered without touching this file), and help starts without heavy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from srpo.cli import curate, train

HEAVY = ("torch", "transformers", "deepspeed", "vllm", "duckdb", "polars", "pyarrow", "sympy", "math_verify")


def _commands(app: typer.Typer) -> list[tuple[str, typer.models.CommandInfo]]:
    return [(info.name or info.callback.__name__, info) for info in app.registered_commands]


CURATE = _commands(curate.app)
TRAIN = _commands(train.app)


def test_the_registries_hold_every_command():
    names = {name for name, _ in CURATE}
    assert {"ingest", "clean", "query", "stats", "verify", "grade", "doctor", "difficulty"} <= names
    assert [name for name, _ in TRAIN] == ["train"]


def _help(app: typer.Typer, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], prog_name="srpo", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("name", "info"), CURATE, ids=[name for name, _ in CURATE])
def test_every_curate_command_has_help(name, info):
    text = _help(curate.app, name)
    assert "Usage" in text
    summary = (info.callback.__doc__ or "").strip().splitlines()[0]
    assert summary and summary.split()[0] in text  # its docstring is the help
    if name != "doctor":
        assert "--catalog" in text


def test_the_curate_app_lists_its_commands():
    text = _help(curate.app)
    for name, _ in CURATE:
        assert name in text


def test_srpo_train_help_names_every_option():
    text = _help(train.app)
    for option in ("--from-catalog", "--model", "--config", "--set", "--resume", "--run-id"):
        assert option in text


def test_difficulty_keeps_the_everyday_flags_only():
    command = typer.main.get_command(curate.app).commands["difficulty"]  # type: ignore[attr-defined]
    options = [param.opts[0] for param in command.params if param.opts[0].startswith("--")]
    assert "--config" in options and "--set" in options
    assert len(options) <= 12, options  # --help comes on top
    text = _help(curate.app, "difficulty")
    assert all(option in text for option in options)


PROBE = """
import sys
from typer.testing import CliRunner
from srpo.cli import curate, train
runner = CliRunner()
for name in [c.name or c.callback.__name__ for c in curate.app.registered_commands]:
    assert runner.invoke(curate.app, [name, "--help"]).exit_code == 0
assert runner.invoke(curate.app, ["--help"]).exit_code == 0
assert runner.invoke(train.app, ["--help"]).exit_code == 0
print("HEAVY", sorted(m for m in {heavy!r} if m in sys.modules))
"""


def test_help_imports_no_heavy_module():
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
