"""The catalog's figures from a catalog of several sources: rows kept and rejected by reason
(unreadable rows too), verification, duplicates and where the kept copy is, a benchmark leak,
difficulty and pass rate per source and domain; and what the page says when a figure has nothing
to draw."""

from __future__ import annotations

import pytest

from srpo.catalog import Catalog
from srpo.report.catalog_charts import catalog_figures
from srpo.report.catalog_data import BENCHMARK, KEPT, UNREADABLE, read_catalog
from tests.helpers import write_jsonl

FARMER = (
    "A farmer has 17 cows and buys 25 more cows at the market on Tuesday morning, then sells 9 of "
    "them to a neighbour. How many cows does the farmer have now?"
)
ALPHA = [
    {"id": "a1", "question": "What is 3 + 4?", "answer": "7"},
    {"id": "a2", "question": "What is 12 times 7?", "answer": "84"},
    {"id": "a3", "question": "Which number is larger?\n(A) 3\n(B) 5\n(C) 4\n(D) 1", "answer": "B"},
    {"id": "a5", "question": FARMER, "answer": "33"},
    "{not json",
]
BETA = [{"id": "b1", "question": "What is 3 + 4?", "answer": "7"}]
GAMMA = [
    {
        "id": "c1",
        "domain": "code",
        "question": "Print hello.",
        "tests": {"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]},
    }
]


def ingest(catalog: Catalog, path, **options) -> None:
    from srpo.curate.ingest import IngestOptions
    from srpo.curate.ingest import ingest as run

    run(catalog, IngestOptions(location=str(path), **options))


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sources")
    catalog = Catalog.open(tmp / "c.duckdb", create=True)
    ingest(catalog, write_jsonl(tmp / "alpha.jsonl", ALPHA))
    ingest(catalog, write_jsonl(tmp / "beta.jsonl", BETA))
    ingest(catalog, write_jsonl(tmp / "gamma.jsonl", GAMMA))
    ingest(
        catalog,
        write_jsonl(tmp / "mini.jsonl", [{"id": "m1", "question": FARMER, "answer": "33"}]),
        benchmark="mini",
    )
    with catalog.writer() as con:  # what `srpo-curate verify` and `difficulty` would leave
        con.execute("UPDATE problems SET verify_status = 'verified' WHERE source = 'alpha'")
        for index, rate, level in (("a1", 0.0, "hard"), ("a2", 0.5, "medium"), ("c1", 1.0, "easy")):
            con.execute(
                "UPDATE problems SET pass_rate = ?, difficulty = ? WHERE source_index = ?",
                [rate, level, index],
            )
    with catalog.reader() as con:
        return read_catalog(con)


def as_set(rows, *keys):
    return {tuple(row[k] for k in keys) for row in rows}


def test_rows_per_source_kept_rejected_benchmark_and_unreadable(sources):
    assert as_set(sources.outcomes, "source", "outcome", "rows") == {
        ("alpha", KEPT, 2),
        ("alpha", "math.multiple_choice", 1),
        ("alpha", "decontam.mini", 1),
        ("alpha", UNREADABLE, 1),
        ("beta", "dedup.exact", 1),
        ("gamma", KEPT, 1),
        ("mini", BENCHMARK, 1),
    }
    totals = sources.totals
    assert (
        totals.problems,
        totals.kept,
        totals.rejected,
        totals.benchmark,
        totals.unreadable,
        totals.sources,
    ) == (
        7,
        3,
        3,
        1,
        1,
        4,
    )


def test_verification_duplicates_contamination(sources):
    assert as_set(sources.verification, "source", "domain", "status", "rows") == {
        ("alpha", "math", "verified", 2),
        ("gamma", "code", "pending", 1),
    }
    assert sources.duplicates == [{"source": "beta", "kept_in": "alpha", "kind": "dedup.exact", "rows": 1}]
    assert sources.contamination == [{"source": "alpha", "benchmark": "mini", "rows": 1}]


def test_difficulty_and_pass_rate_bins(sources):
    assert as_set(sources.difficulty, "source", "domain", "difficulty", "rows") == {
        ("alpha", "math", "hard", 1),
        ("alpha", "math", "medium", 1),
        ("gamma", "code", "easy", 1),
    }
    assert as_set(sources.pass_rate, "source", "domain", "bin", "rows", "share") == {
        ("alpha", "math", "0", 1, 0.5),
        ("alpha", "math", "[0.4, 0.6)", 1, 0.5),
        ("gamma", "code", "1", 1, 1.0),
    }


def test_six_figures_whose_data_is_the_catalogs(sources):
    figures, absent = catalog_figures(sources)
    assert absent == []
    assert [f.figure_id for f in figures] == [
        "catalog-rows",
        "catalog-verification",
        "catalog-duplicates",
        "catalog-contamination",
        "catalog-difficulty",
        "catalog-pass-rate",
    ]
    by_id = {f.figure_id: f for f in figures}
    assert "$schema" not in by_id["catalog-rows"].spec  # nothing for a viewer to fetch
    drawn = by_id["catalog-rows"].spec["data"]["values"]
    assert as_set(drawn, "source", "outcome", "rows") == as_set(sources.outcomes, "source", "outcome", "rows")
    assert {row["label"] for row in by_id["catalog-pass-rate"].data} == {"alpha · math", "gamma · code"}
    for figure in figures:
        assert figure.title and figure.caption and figure.data


def test_figures_with_nothing_to_draw_become_sentences(tmp_path):
    catalog = Catalog.open(tmp_path / "c.duckdb", create=True)
    ingest(catalog, write_jsonl(tmp_path / "one.jsonl", ALPHA[:1]))
    with catalog.reader() as con:
        figures, absent = catalog_figures(read_catalog(con))
    assert [f.figure_id for f in figures] == ["catalog-rows", "catalog-verification", "catalog-difficulty"]
    assert absent[0] == "No duplicates found." and "benchmark" in absent[1] and "pass rate" in absent[2]
