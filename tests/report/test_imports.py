"""The report's libraries stay out of `srpo-curate --help` and the trainer, and a missing one is
one line naming the extra to install."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import write_jsonl

REPORT_LIBRARIES = ("altair", "vl_convert", "jsonschema", "srpo.report.figures", "srpo.report.html")

HELP = """
import sys
from typer.testing import CliRunner
from srpo.cli import curate
runner = CliRunner()
assert runner.invoke(curate.app, ["--help"]).exit_code == 0
assert runner.invoke(curate.app, ["report", "--help"]).exit_code == 0
assert runner.invoke(curate.app, ["query", "--help"]).exit_code == 0
print("LOADED", sorted(m for m in {names!r} if m in sys.modules))
"""

TRAINER = """
import sys
import srpo.train.trainer, srpo.train.step, srpo.train.update, srpo.cli.train
print("LOADED", sorted(m for m in sys.modules if m in {names!r} or m.startswith("srpo.report")))
"""


def _loaded(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout


def test_help_loads_no_report_library():
    assert "LOADED []" in _loaded(HELP.format(names=REPORT_LIBRARIES))


def test_the_trainer_loads_nothing_of_the_report():
    assert "LOADED []" in _loaded(TRAINER.format(names=REPORT_LIBRARIES))


MISSING = """
import sys
sys.modules["altair"] = None  # as if the report extra were not installed
sys.argv = ["srpo-curate", "report", "--catalog", {catalog!r}, "-o", {output!r}]
from srpo.cli.curate import main
main()
"""


def test_without_the_report_extra_the_command_says_what_to_install(tmp_path):
    from srpo.catalog import Catalog
    from srpo.curate.ingest import IngestOptions, ingest

    catalog = Catalog.open(tmp_path / "c.duckdb", create=True)
    rows = write_jsonl(tmp_path / "one.jsonl", [{"question": "What is 3 + 4?", "answer": "7"}])
    ingest(catalog, IngestOptions(location=str(rows)))
    code = MISSING.format(catalog=str(catalog.path), output=str(tmp_path / "r.html"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert (
        "srpo-curate: error: srpo-curate report needs altair (the report extra: pip install 'srpo[report]')"
        in (result.stderr)
    )
    assert not (tmp_path / "r.html").exists()
