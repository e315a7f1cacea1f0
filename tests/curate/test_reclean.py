"""`srpo-curate clean`: re-applying changed settings to everything in the catalog."""

from __future__ import annotations

import json

from srpo.curate.config import CleaningConfig, FilterConfig
from srpo.curate.ingest import IngestOptions, ingest
from srpo.curate.reclean import clean
from tests.helpers import run_cli, write_jsonl

ROWS = [
    {
        "question": "What is 1+1? $\\textbf{(A) } 1 \\qquad \\textbf{(B) } 2 \\qquad \\textbf{(C) } 3$",
        "answer": "B",
    },
    {"question": "Question:  How many   legs do 3 spiders have?", "answer": "24"},
    {"question": "How many legs do 3 spiders have ?", "answer": "24"},
    {"question": "Prove that $\\sqrt{2}$ is irrational.", "answer": "\\text{proof}"},
]


def snapshot(catalog) -> list[tuple]:
    with catalog.reader() as con:
        return con.execute(
            "SELECT source_index, problem_id, question, clean_status, reject_reason, dup_of FROM problems ORDER BY 1"
        ).fetchall()


def test_clean_applies_new_settings_and_is_repeatable(catalog, tmp_path):
    ingest(catalog, IngestOptions(location=str(write_jsonl(tmp_path / "mine.jsonl", ROWS))))
    first = snapshot(catalog)
    assert [row[4] for row in first] == ["math.multiple_choice", None, "dedup.exact", "math.proof"]
    assert first[1][2] == "How many legs do 3 spiders have?"  # normalised: label and spaces gone

    unchanged = clean(catalog, CleaningConfig())
    assert snapshot(catalog) == first
    assert (unchanged.now_kept, unchanged.now_rejected, unchanged.ids_changed) == (0, 0, 0)

    allow_choices = CleaningConfig(filters=FilterConfig(reject_multiple_choice=False))
    report = clean(catalog, allow_choices)
    assert report.now_kept == 1 and report.problems == 4
    assert [row[3] for row in snapshot(catalog)] == ["kept", "kept", "rejected", "rejected"]


def test_clean_rebuilds_the_index_with_new_minhash_settings(catalog, tmp_path):
    ingest(catalog, IngestOptions(location=str(write_jsonl(tmp_path / "mine.jsonl", ROWS))))
    report = clean(catalog, _with_threshold(0.95))
    assert report.problems == 4
    with catalog.reader() as con:
        stored = json.loads(
            con.execute("SELECT value FROM catalog_settings WHERE key = 'dedup_index'").fetchall()[0][0]
        )
    assert stored["threshold"] == 0.95


def _with_threshold(threshold: float) -> CleaningConfig:
    from srpo.config import load_config

    return load_config(CleaningConfig, None, [f"dedup.threshold={threshold}"])


def test_clean_command(tmp_path):
    catalog = tmp_path / "c.duckdb"
    data = write_jsonl(tmp_path / "mine.jsonl", ROWS)
    assert run_cli("ingest", str(data), "--catalog", str(catalog), "-q").returncode == 0
    result = run_cli(
        "clean", "--catalog", str(catalog), "--set", "filters.reject_multiple_choice=false", "-f", "json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["now_kept"] == 1
    bad = run_cli("clean", "--catalog", str(catalog), "--set", "filters.nope=1")
    assert bad.returncode == 2 and "unknown setting filters.nope" in bad.stderr
    assert run_cli("clean", "--help").returncode == 0
