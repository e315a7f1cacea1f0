"""Ingest: idempotence, invalid rows, naming, splits, collisions, and resuming after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srpo.catalog import Catalog
from srpo.curate.ingest import IngestOptions, default_source_name, ingest
from tests.helpers import write_jsonl


def rows(catalog: Catalog, sql: str, params: list | None = None) -> list[tuple]:
    with catalog.reader() as con:
        return con.execute(sql, params or []).fetchall()


def math_rows(count: int, start: int = 0) -> list[dict]:
    return [{"question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(start, start + count)]


def test_second_ingest_adds_nothing(catalog, tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", math_rows(50))
    first = ingest(catalog, IngestOptions(location=str(path), batch_size=7))
    second = ingest(catalog, IngestOptions(location=str(path), batch_size=7))
    assert (first.counts.rows_read, first.counts.rows_added) == (50, 50)
    assert (second.counts.rows_added, second.counts.rows_existing) == (0, 50)
    assert rows(catalog, "SELECT count(*) FROM problems") == [(50,)]
    assert rows(catalog, "SELECT ingest_id, status, rows_added FROM ingests ORDER BY 1") == [
        (1, "completed", 50), (2, "completed", 0)
    ]  # fmt: skip


def test_broken_lines_keep_every_good_row_and_record_every_bad_one(catalog, tmp_path):
    good = math_rows(5)
    lines = [good[0], '{"question": "broken"', good[1], {"question": ["not", "text"], "answer": "1"},
             good[2], "[1]", good[3], {"answer": "no question"}, good[4]]  # fmt: skip
    path = write_jsonl(tmp_path / "mixed.jsonl", lines)
    path.write_bytes(path.read_bytes() + b'{"question": "\xff", "answer": "1"}\n')
    report = ingest(catalog, IngestOptions(location=str(path), adapter="generic"))
    assert report.counts.rows_read == 10
    assert report.counts.rows_added == 5
    assert report.counts.rows_invalid == 5
    invalid = rows(catalog, "SELECT line, field, error FROM invalid_rows ORDER BY line")
    assert [(line, field) for line, field, _ in invalid] == [
        (2, None), (4, "question"), (6, None), (8, "question"), (10, None)
    ]  # fmt: skip
    assert "invalid JSON" in invalid[0][2]
    assert invalid[1][2] == "expected a string, got array"
    assert "invalid UTF-8" in invalid[4][2]
    assert rows(catalog, "SELECT DISTINCT file FROM invalid_rows") == [(str(path.resolve()),)]
    assert any("mixed.jsonl:2" in example for example in report.invalid_examples)


def test_reingest_of_a_fixed_file_forgets_old_invalid_rows(catalog, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [math_rows(1)[0], "{broken"])
    ingest(catalog, IngestOptions(location=str(path)))
    assert rows(catalog, "SELECT count(*) FROM invalid_rows") == [(1,)]
    write_jsonl(path, [*math_rows(1), *math_rows(1, start=1)])
    report = ingest(catalog, IngestOptions(location=str(path)))
    assert report.counts.rows_added == 1
    assert rows(catalog, "SELECT count(*) FROM invalid_rows") == [(0,)]


def test_same_position_with_different_content_is_recorded_not_overwritten(catalog, tmp_path):
    first = write_jsonl(
        tmp_path / "a" / "data.jsonl" if (tmp_path / "a").mkdir() is None else None, math_rows(2)
    )
    second = write_jsonl(tmp_path / "data.jsonl", math_rows(2, start=10))
    ingest(catalog, IngestOptions(location=str(first), source="mine"))
    report = ingest(catalog, IngestOptions(location=str(second), source="mine"))
    assert report.counts.rows_added == 0
    assert report.counts.rows_invalid == 2
    errors = rows(catalog, "SELECT field, error FROM invalid_rows")
    assert all(
        field == "source_index" and "already holds a different row" in error for field, error in errors
    )
    assert rows(catalog, "SELECT question FROM problems ORDER BY source_index") == [
        ("What is 0 + 0?",), ("What is 1 + 1?",)
    ]  # fmt: skip


def test_split_precedence_and_source_names(catalog, tmp_path):
    folder = tmp_path / "mydata"
    (folder / "test").mkdir(parents=True)
    write_jsonl(folder / "train.jsonl", math_rows(2))
    write_jsonl(folder / "test" / "part.jsonl", [{**r, "split": "holdout"} for r in math_rows(2, start=5)])
    report = ingest(catalog, IngestOptions(location=str(folder)))
    assert report.source == "mydata"
    assert report.splits == {"train": 2, "holdout": 2}  # a row's own split beats its path
    forced = ingest(catalog, IngestOptions(location=str(folder), split="dev", source="forced"))
    assert forced.splits == {"dev": 4}


@pytest.mark.parametrize(
    ("path", "name"),
    [("gsm8k/train.jsonl", "gsm8k"), ("math/math500_test.jsonl", "math500"),
     ("humaneval/HumanEval.jsonl.gz", "humaneval"), ("mbpp/sanitized-mbpp.json", "sanitized-mbpp"),
     ("deepscaler_sample/deepscaler_val.parquet", "deepscaler"), ("x/test_math/aime.json", "aime")],
)  # fmt: skip
def test_default_source_names(path, name):
    assert default_source_name(Path("/data") / path) == name


def test_problem_ids_are_content_hashes_shared_across_sources(catalog, tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"question": "What  is 2+2?", "answer": "4"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"question": "What is 2+2? ", "answer": "4.0"}])
    c = write_jsonl(
        tmp_path / "c.jsonl", [{"question": "What is 2+2?", "tests": {"type": "stdio", "cases": []}}]
    )
    for path in (a, b, c):
        ingest(catalog, IngestOptions(location=str(path)))
    ids = rows(catalog, "SELECT source, domain, problem_id FROM problems ORDER BY source")
    assert ids[0][2] == ids[1][2]  # same domain and normalised question
    assert ids[2][2] != ids[0][2]  # another domain is another problem


def test_missing_answers_and_tests_are_rejected_with_reasons(catalog, tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"question": "q1", "answer": ""},
        {"question": "q2", "domain": "code"},
        {"question": "q3", "tests": {"type": "assert", "code": "  "}},
        {"question": "q4", "answer": "4"},
    ])  # fmt: skip
    report = ingest(catalog, IngestOptions(location=str(path)))
    assert (report.counts.rows_kept, report.counts.rows_rejected) == (1, 3)
    reasons = rows(
        catalog, "SELECT question, reject_reason FROM problems WHERE clean_status='rejected' ORDER BY 1"
    )
    assert reasons == [("q1", "math.missing_answer"), ("q2", "code.no_tests"), ("q3", "code.no_tests")]
    stored = json.loads(rows(catalog, "SELECT stage_counts FROM ingests")[0][0])
    assert stored["required_fields"]["rejected"] == {"math.missing_answer": 1, "code.no_tests": 2}


def test_limit_and_stdin(catalog, tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "d.jsonl", math_rows(30))
    report = ingest(catalog, IngestOptions(location=str(path), limit=10))
    assert report.counts.rows_read == 10
    import io

    payload = "".join(json.dumps(r) + "\n" for r in math_rows(3, start=100))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload.encode())))
    from_stdin = ingest(catalog, IngestOptions(location="-", source="piped"))
    assert from_stdin.counts.rows_added == 3


def test_builtin_demo_dataset(catalog):
    report = ingest(catalog, IngestOptions(location="srpo:demo"))
    assert report.source == "demo"
    assert report.counts.rows_added == report.counts.rows_read >= 30
    assert report.counts.rows_rejected == 2


# ----------------------------------------------------------------------------- kill and resume


def _table_dump(catalog: Catalog) -> tuple[list, list]:
    problems = rows(catalog, "SELECT * EXCLUDE (created_at, updated_at) FROM problems ORDER BY source_index")
    invalid = rows(catalog, "SELECT * EXCLUDE (created_at) FROM invalid_rows ORDER BY file, line")
    return problems, invalid


def _make_input(tmp_path: Path) -> Path:
    lines: list = []
    for i in range(6000):
        lines.append(f'{{"question": "broken {i}"' if i % 997 == 0 else
                     {"question": f"Compute {i} * 3.", "answer": str(3 * i)})  # fmt: skip
    return write_jsonl(tmp_path / "big.jsonl", lines)


def _ingest_command(path: Path, catalog_path: Path) -> list[str]:
    return [sys.executable, "-m", "srpo.cli.curate", "ingest", str(path), "--catalog", str(catalog_path),
            "--batch-size", "100", "--quiet", "--format", "json"]  # fmt: skip


def _rows_read_so_far(catalog_path: Path) -> int:
    import duckdb

    try:
        con = duckdb.connect(str(catalog_path), read_only=True)
    except duckdb.Error:
        return 0  # not created yet, or locked by the writer between our polls
    try:
        found = con.execute("SELECT coalesce(max(rows_read), 0) FROM ingests").fetchall()
        return found[0][0]
    except duckdb.Error:
        return 0
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_rows", [0, 700, 3500])
def test_sigkill_mid_ingest_then_rerun_equals_an_uninterrupted_run(tmp_path, kill_after_rows):
    source = _make_input(tmp_path)
    reference_path = tmp_path / "reference.duckdb"
    subprocess.run(_ingest_command(source, reference_path), check=True, capture_output=True)

    killed_path = tmp_path / "killed.duckdb"
    process = subprocess.Popen(_ingest_command(source, killed_path), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while kill_after_rows and _rows_read_so_far(killed_path) < kill_after_rows:
        assert process.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    rerun = subprocess.run(_ingest_command(source, killed_path), check=True, capture_output=True, text=True)
    report = json.loads(rerun.stdout)
    reference = Catalog.open(reference_path)
    resumed = Catalog.open(killed_path)
    assert _table_dump(resumed) == _table_dump(reference)
    assert report["counts"]["rows_read"] == 6000
    assert report["counts"]["rows_added"] == 6000 - 7
    assert report["counts"]["rows_invalid"] == 7
    final = rows(resumed, "SELECT count(*), min(status) FROM ingests")
    if kill_after_rows:  # the killed run's ingest row is taken over, not duplicated
        assert final == [(1, "completed")]
        assert rows(resumed, "SELECT resumed FROM ingests") == [(1,)]
