"""Benchmark decontamination: leaks are rejected at ingest and re-checked at registration."""

from __future__ import annotations

import json

import pytest

from srpo.catalog import Catalog
from srpo.curate.ingest import IngestOptions, ingest
from srpo.errors import InputError
from srpo.testing.perturb import perturb
from tests.helpers import write_jsonl

BENCHMARK = [
    {"id": "b1", "question": "Compute the number of ordered pairs of positive integers $(a, b)$ with $a + b = 1000$ "
                             "such that neither $a$ nor $b$ has a zero digit.", "answer": "738"},
    {"id": "b2", "question": "Find the remainder when $2^{100}$ is divided by $7$.", "answer": "2"},
    {"id": "b3", "question": "Suzanne walks four miles every third day. What is the fewest number of miles she can "
                             "walk in February?", "answer": "36"},
]  # fmt: skip
UNRELATED = [
    {"question": "Compute the number of ordered pairs of positive integers $(a, b)$ with $a + b = 500$ such that "
                 "neither $a$ nor $b$ has a zero digit.", "answer": "1"},  # a template with other numbers
    {"question": "A baker sells 12 loaves a day for 5 days. How many loaves does he sell?", "answer": "60"},
    {"question": "Let $m$ and $n$ be relatively prime positive integers such that $m/n = 0.25$. Find $m+n$.", "answer": "5"},
]  # fmt: skip


def statuses(catalog: Catalog, source: str) -> list[tuple]:
    with catalog.reader() as con:
        return con.execute(
            "SELECT source_index, clean_status, reject_reason, contaminated_with FROM problems WHERE source = ? "
            "ORDER BY source_index",
            [source],
        ).fetchall()


def register(catalog: Catalog, tmp_path) -> None:
    path = write_jsonl(tmp_path / "bench.jsonl", BENCHMARK)
    ingest(catalog, IngestOptions(location=str(path), benchmark="toy"))


def test_training_problems_that_leak_a_benchmark_are_rejected_at_ingest(catalog, tmp_path):
    register(catalog, tmp_path)
    leaked = [{"question": perturb(row["question"], seed), "answer": row["answer"]}
              for seed, row in enumerate(BENCHMARK)]  # fmt: skip
    path = write_jsonl(tmp_path / "mine.jsonl", leaked + UNRELATED)
    report = ingest(catalog, IngestOptions(location=str(path)))
    assert report.stage_counts["decontam"]["rejected"] == {"decontam.toy": 3}
    rows = statuses(catalog, "mine")
    with catalog.reader() as con:
        bench_ids = {
            r[0] for r in con.execute("SELECT problem_id FROM problems WHERE benchmark = 'toy'").fetchall()
        }
    assert [r[2] for r in rows[:3]] == ["decontam.toy"] * 3 and {r[3] for r in rows[:3]} <= bench_ids
    assert [r[1] for r in rows[3:]] == ["kept"] * 3


def test_registering_later_rechecks_what_is_already_there(catalog, tmp_path):
    leaked = write_jsonl(tmp_path / "mine.jsonl", [{"question": perturb(BENCHMARK[1]["question"], 3), "answer": "2"},
                                                     UNRELATED[1]])  # fmt: skip
    ingest(catalog, IngestOptions(location=str(leaked)))
    assert [r[1] for r in statuses(catalog, "mine")] == ["kept", "kept"]
    path = write_jsonl(tmp_path / "bench.jsonl", BENCHMARK)
    report = ingest(catalog, IngestOptions(location=str(path), benchmark="toy"))
    assert report.benchmark["contaminated"] == {"decontam.toy": 1}
    assert report.benchmark["rechecked"] == 2
    assert [r[2] for r in statuses(catalog, "mine")] == ["decontam.toy", None]


def test_benchmark_rows_are_stored_for_evaluation_not_filtered(catalog, tmp_path):
    rows = [{"question": "[asy]draw((0,0)--(1,1));[/asy] Find the slope.", "answer": "1"}]
    path = write_jsonl(tmp_path / "figs.jsonl", rows)
    ingest(catalog, IngestOptions(location=str(path), benchmark="figs"))
    with catalog.reader() as con:
        stored = con.execute("SELECT clean_status, benchmark FROM problems").fetchall()
        registered = con.execute("SELECT name, source, problems, ngram FROM benchmarks").fetchall()
    assert stored == [("kept", "figs")]
    assert registered == [("figs", "figs", 1, 13)]


def test_a_leak_is_recorded_even_on_a_problem_another_rule_rejected(catalog, tmp_path):
    register(catalog, tmp_path)
    row = {"question": BENCHMARK[1]["question"] + " Prove that your answer is correct.", "answer": "2"}
    ingest(catalog, IngestOptions(location=str(write_jsonl(tmp_path / "mine.jsonl", [row]))))
    [(_, status, reason, contaminated)] = statuses(catalog, "mine")
    assert (status, reason) == ("rejected", "math.proof") and contaminated is not None


def test_benchmark_names_are_checked(catalog, tmp_path):
    path = write_jsonl(tmp_path / "bench.jsonl", BENCHMARK)
    with pytest.raises(InputError, match="--benchmark 'MATH 500'"):
        ingest(catalog, IngestOptions(location=str(path), benchmark="MATH 500"))


@pytest.mark.slow
@pytest.mark.shared_data
def test_math500_hidden_in_a_training_file_is_all_flagged_and_gsm8k_is_not(shared_data, tmp_path):
    catalog = Catalog.open(tmp_path / "c.duckdb", create=True)
    ingest(catalog, IngestOptions(location=str(shared_data / "math/math500_test.jsonl"), benchmark="math500"))
    source = [json.loads(line) for line in (shared_data / "math/math500_test.jsonl").read_text().splitlines()]
    gsm8k = [json.loads(line) for line in (shared_data / "gsm8k/train.jsonl").read_text().splitlines()]
    rows = [
        {"id": f"leak-{i:03d}", "question": perturb(r["problem"], i), "answer": r["answer"]}
        for i, r in enumerate(source)
    ]
    rows += [{"id": f"gsm-{i:04d}", "question": r["question"], "answer": r["answer"].split("####")[-1].strip()}
             for i, r in enumerate(gsm8k)]  # fmt: skip
    ingest(catalog, IngestOptions(location=str(write_jsonl(tmp_path / "mixed.jsonl", rows))))
    with catalog.reader() as con:
        flagged = dict(con.execute(
            "SELECT left(source_index, 4), count(*) FILTER (contaminated_with IS NOT NULL) FROM problems "
            "WHERE source = 'mixed' GROUP BY 1"
        ).fetchall())  # fmt: skip
    assert flagged == {"leak": 500, "gsm-": 0}
