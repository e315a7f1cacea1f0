"""Exact and near duplicates across files and ingests; numbers make problems different."""

from __future__ import annotations

import pytest

from srpo.catalog import Catalog
from srpo.curate.config import CleaningConfig, DedupConfig
from srpo.curate.ingest import IngestOptions, ingest
from srpo.errors import CatalogError
from srpo.testing.perturb import latex_spacing, one_word, punctuation, whitespace
from tests.helpers import write_jsonl

ORIGINALS = [
    "A farmer has 17 sheep and buys 8 more each week for 6 weeks. How many sheep does the farmer have at the end?",
    "Let $f(x) = 3x^2 + 2x - 5$. Find the sum of the roots of the equation $f(x) = 0$ expressed as a fraction.",
    "A rectangle has a perimeter of 46 units and a length of 15 units. What is the area of the rectangle in square units?",
    "How many positive integers less than 1000 are divisible by 7 but not by 11, and leave remainder 3 when divided by 5?",
]


def rows_of(catalog: Catalog, source: str) -> list[tuple]:
    with catalog.reader() as con:
        return con.execute(
            "SELECT question, clean_status, reject_reason, dup_of, problem_id FROM problems WHERE source = ? "
            "ORDER BY source_index",
            [source],
        ).fetchall()


def ingest_rows(catalog: Catalog, tmp_path, name: str, rows: list[dict], **options):
    path = write_jsonl(tmp_path / f"{name}.jsonl", rows)
    return ingest(catalog, IngestOptions(location=str(path), **options))


@pytest.mark.parametrize(
    "reword", [whitespace, punctuation, latex_spacing, one_word], ids=lambda f: f.__name__
)
def test_reworded_copies_from_another_source_are_near_duplicates(catalog, tmp_path, reword):
    ingest_rows(catalog, tmp_path, "first", [{"question": q, "answer": "1"} for q in ORIGINALS])
    report = ingest_rows(
        catalog, tmp_path, "second", [{"question": reword(q), "answer": "1"} for q in ORIGINALS]
    )
    assert report.counts.rows_rejected == len(ORIGINALS)
    originals = {row[4] for row in rows_of(catalog, "first")}
    for question, status, reason, dup_of, _ in rows_of(catalog, "second"):
        assert status == "rejected" and reason in {"dedup.near", "dedup.exact"}, question
        assert dup_of in originals


def test_problems_that_differ_only_in_a_number_are_different(catalog, tmp_path):
    ingest_rows(catalog, tmp_path, "first", [{"question": q, "answer": "1"} for q in ORIGINALS])
    changed = [q.replace("17", "19").replace("3x^2", "4x^2").replace("46", "48").replace("remainder 3", "remainder 4")
               for q in ORIGINALS]  # fmt: skip
    signs = [ORIGINALS[1].replace("+ 2x", "- 2x")]
    report = ingest_rows(
        catalog, tmp_path, "second", [{"question": q, "answer": "1"} for q in changed + signs]
    )
    assert report.counts.rows_kept == len(changed) + len(signs)
    assert all(status == "kept" for _, status, *_ in rows_of(catalog, "second"))


def test_exact_duplicates_and_conflicting_answers(catalog, tmp_path):
    question = ORIGINALS[0]
    ingest_rows(catalog, tmp_path, "first", [{"question": question, "answer": "65"}])
    ingest_rows(catalog, tmp_path, "same", [{"question": question, "answer": "65"}])
    ingest_rows(catalog, tmp_path, "other_answer", [{"question": question, "answer": "64"}])
    [(_, _, reason, dup_of, pid)] = rows_of(catalog, "same")
    assert (reason, dup_of) == ("dedup.exact", pid)  # same question: same problem_id
    assert rows_of(catalog, "other_answer")[0][2] == "dedup.near"  # same question, another gold


def test_duplicates_within_one_file_keep_the_first(catalog, tmp_path):
    rows = [
        {"question": ORIGINALS[2], "answer": "120"},
        {"question": whitespace(ORIGINALS[2]), "answer": "120"},
    ]
    report = ingest_rows(catalog, tmp_path, "batch", rows)
    assert (report.counts.rows_kept, report.counts.rows_rejected) == (1, 1)
    assert report.stage_counts["dedup"]["rejected"] == {"dedup.exact": 1}
    assert [row[1] for row in rows_of(catalog, "batch")] == ["kept", "rejected"]


def test_a_later_copy_with_a_solution_replaces_one_without_history(catalog, tmp_path):
    ingest_rows(catalog, tmp_path, "bare", [{"question": ORIGINALS[2], "answer": "120"}])
    ingest_rows(
        catalog,
        tmp_path,
        "solved",
        [{"question": one_word(ORIGINALS[2]), "answer": "120", "solution": "w=8, 8*15"}],
    )
    assert rows_of(catalog, "bare")[0][1:3] == ("rejected", "dedup.near")
    assert rows_of(catalog, "solved")[0][1] == "kept"
    assert rows_of(catalog, "bare")[0][3] == rows_of(catalog, "solved")[0][4]


def test_a_representative_with_history_is_never_replaced(catalog, tmp_path):
    ingest_rows(catalog, tmp_path, "bare", [{"question": ORIGINALS[2], "answer": "120"}])
    with catalog.writer() as con:
        con.execute("UPDATE problems SET difficulty = 'hard' WHERE source = 'bare'")
    ingest_rows(
        catalog,
        tmp_path,
        "solved",
        [{"question": one_word(ORIGINALS[2]), "answer": "120", "solution": "8*15"}],
    )
    assert rows_of(catalog, "bare")[0][1] == "kept"
    assert rows_of(catalog, "solved")[0][1:3] == ("rejected", "dedup.near")


def test_domains_are_deduplicated_separately(catalog, tmp_path):
    tests = {"type": "stdio", "cases": [{"input": "", "output": "65"}]}
    ingest_rows(catalog, tmp_path, "math", [{"question": ORIGINALS[0], "answer": "65"}])
    report = ingest_rows(catalog, tmp_path, "code", [{"question": ORIGINALS[0], "tests": tests}])
    assert report.counts.rows_kept == 1


def test_changed_minhash_settings_need_a_clean(catalog, tmp_path):
    ingest_rows(catalog, tmp_path, "first", [{"question": ORIGINALS[0], "answer": "65"}])
    other = CleaningConfig(dedup=DedupConfig(threshold=0.9))
    with pytest.raises(CatalogError, match="run `srpo-curate clean`"):
        ingest_rows(catalog, tmp_path, "second", [{"question": ORIGINALS[1], "answer": "1"}], config=other)
    disabled = CleaningConfig(dedup=DedupConfig(enabled=False))
    report = ingest_rows(
        catalog, tmp_path, "third", [{"question": ORIGINALS[0], "answer": "65"}], config=disabled
    )
    assert report.counts.rows_kept == 1  # dedup off: nothing compared


def test_index_lives_in_the_catalog(catalog, tmp_path):
    ingest_rows(catalog, tmp_path, "first", [{"question": q, "answer": "1"} for q in ORIGINALS])
    with catalog.reader() as con:
        indexed = con.execute("SELECT count(*) FROM dedup_index").fetchall()[0][0]
        bands = con.execute("SELECT count(DISTINCT band) FROM lsh_buckets").fetchall()[0][0]
        settings = con.execute("SELECT value->>'bands', value->>'rows' FROM catalog_settings").fetchall()
    assert indexed == len(ORIGINALS)
    assert settings == [(str(bands), "13")]  # datasketch's split for threshold 0.8, 128 permutations
