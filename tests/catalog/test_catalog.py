"""The catalog file: schema migrations, path resolution, and the one-line lock message."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from srpo.catalog import Catalog, migrations, resolve_catalog_path
from srpo.catalog.testspec import TestFormatError, parse_tests, tests_to_json
from srpo.errors import CatalogError, CatalogLockedError
from tests.helpers import run_cli


def test_new_catalog_has_every_table_at_the_latest_version(catalog):
    with catalog.reader() as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert {"problems", "ingests", "invalid_rows", "runs", "rollouts", "schema_migrations"} <= tables
        assert migrations.current_version(con) == migrations.latest_version()


def test_reopening_does_not_reapply_migrations(catalog_path):
    Catalog.open(catalog_path, create=True)
    Catalog.open(catalog_path)
    con = duckdb.connect(str(catalog_path), read_only=True)
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchall() == [
        (migrations.latest_version(),)
    ]
    con.close()


def test_catalog_from_a_newer_srpo_is_refused(catalog_path):
    Catalog.open(catalog_path, create=True)
    con = duckdb.connect(str(catalog_path))
    con.execute("INSERT INTO schema_migrations VALUES (999, 'future', now())")
    con.close()
    with pytest.raises(CatalogError, match="newer than this srpo"):
        Catalog.open(catalog_path)


def test_missing_catalog_and_non_catalog_files(tmp_path):
    with pytest.raises(CatalogError, match="no catalog at"):
        Catalog.open(tmp_path / "absent.duckdb")
    junk = tmp_path / "junk.duckdb"
    junk.write_text("this is not a database")
    with pytest.raises(CatalogError, match="cannot open catalog"):
        Catalog.open(junk)


def test_catalog_path_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("SRPO_CATALOG", raising=False)
    assert resolve_catalog_path() == Path("srpo.duckdb")
    monkeypatch.setenv("SRPO_CATALOG", str(tmp_path / "env.duckdb"))
    assert resolve_catalog_path() == tmp_path / "env.duckdb"
    assert resolve_catalog_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


def test_writer_rolls_back_on_error(catalog):
    with pytest.raises(RuntimeError), catalog.writer() as con:
        con.execute("INSERT INTO runs (run_id, kind, started_at, updated_at) VALUES ('r', 'x', now(), now())")
        raise RuntimeError("boom")
    with catalog.reader() as con:
        assert con.execute("SELECT count(*) FROM runs").fetchall() == [(0,)]


# ---------------------------------------------------------------------------------- locking

HOLDER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read")
    print("ready", flush=True)
    sys.stdin.read()
    """
)


@pytest.fixture
def lock_holder(catalog):
    processes = []

    def hold(mode: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(catalog.path), mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout.readline().strip() == "ready"
        processes.append(process)
        return process

    yield hold
    for process in processes:
        process.stdin.close()
        process.wait(timeout=10)


def test_reader_blocked_by_a_writer_gets_one_line_naming_it(catalog, lock_holder):
    holder = lock_holder("write")
    result = run_cli("query", "--catalog", str(catalog.path), env={"SRPO_LOCK_TIMEOUT": "0.3"})
    assert result.returncode == 75
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"PID {holder.pid}" in lines[0]
    assert "holds it for writing" in lines[0] and "try again" in lines[0]
    assert "Traceback" not in result.stderr


def test_writer_blocked_by_a_reader_is_told_to_close_the_reader(catalog, lock_holder, tmp_path):
    holder = lock_holder("read")
    data = tmp_path / "d.jsonl"
    data.write_text('{"question": "q", "answer": "1"}\n')
    result = run_cli("ingest", str(data), "--catalog", str(catalog.path), env={"SRPO_LOCK_TIMEOUT": "0.3"})
    assert result.returncode == 75
    [line] = [x for x in result.stderr.splitlines() if x.startswith("srpo-curate: error:")]
    assert f"PID {holder.pid}" in line and "has it open read-only" in line
    assert "Traceback" not in result.stderr


def test_readers_do_not_block_each_other(catalog, lock_holder):
    lock_holder("read")
    result = run_cli("stats", "--catalog", str(catalog.path), env={"SRPO_LOCK_TIMEOUT": "0.3"})
    assert result.returncode == 0, result.stderr


def test_lock_waits_for_a_writer_that_finishes(catalog):
    brief = "import sys, time, duckdb\ncon = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\ntime.sleep(0.5)"
    holder = subprocess.Popen(
        [sys.executable, "-c", brief, str(catalog.path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "ready"
    with Catalog(catalog.path, lock_timeout=10).reader() as reader:
        assert reader.execute("SELECT 1").fetchall() == [(1,)]
    holder.wait(timeout=10)


def test_lock_error_type_in_process(catalog, lock_holder):
    lock_holder("write")
    with pytest.raises(CatalogLockedError, match="locked"), Catalog(catalog.path, lock_timeout=0.2).reader():
        pass


# ------------------------------------------------------------------------------ test format


def test_code_test_format_round_trips_and_names_bad_paths():
    for value in (
        {"type": "stdio", "cases": [{"input": "1\n", "output": "2\n"}]},
        {"type": "call", "fn_name": "f", "cases": [{"args": [1, [2]], "expected": {"a": 1}}]},
        {"type": "assert", "code": "assert f(1) == 2", "entry_point": None},
        {
            "type": "assert",
            "code": "def check(c): pass",
            "entry_point": "Solution().go",
            "prelude": "import math",
        },
    ):
        assert parse_tests(tests_to_json(parse_tests(value))) == parse_tests(value)
    with pytest.raises(TestFormatError, match=r"tests.cases\[0\].output is missing"):
        parse_tests({"type": "stdio", "cases": [{"input": "1"}]})
    with pytest.raises(TestFormatError, match=r"tests\.type must be one of"):
        parse_tests({"type": "junit"})
    with pytest.raises(TestFormatError, match="not valid JSON"):
        parse_tests("{oops")
