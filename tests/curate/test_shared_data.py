"""Every dataset in ../shared/data ingests with its auto-detected adapter and the right counts."""

from __future__ import annotations

import pytest

from srpo.curate.ingest import IngestOptions, ingest
from tests.helpers import SHARED_DATASETS


@pytest.mark.slow
@pytest.mark.shared_data
def test_all_shared_datasets_ingest_with_right_counts(shared_catalog):
    catalog, reports = shared_catalog
    for path, adapter, source, splits in SHARED_DATASETS:
        report = reports[path]
        total = sum(splits.values())
        assert (report.adapter, report.source, report.splits) == (adapter, source, splits), path
        counts = report.counts
        assert (counts.rows_read, counts.rows_added, counts.rows_invalid) == (total, total, 0), path
        assert counts.rows_kept + counts.rows_rejected == total, path
    with catalog.reader() as con:
        total = con.execute("SELECT count(*) FROM problems").fetchall()[0][0]
        reasons = con.execute(
            "SELECT DISTINCT reject_reason FROM problems WHERE clean_status = 'rejected'"
        ).fetchall()
    assert total == sum(sum(splits.values()) for *_, splits in SHARED_DATASETS)
    assert all(reason and "." in reason for (reason,) in reasons)  # every rejection has a dotted reason


@pytest.mark.slow
@pytest.mark.shared_data
def test_reingest_adds_nothing(shared_data, tmp_path):
    from srpo.catalog import Catalog

    catalog = Catalog.open(tmp_path / "c.duckdb", create=True)
    first = ingest(catalog, IngestOptions(location=str(shared_data / "math/hendrycks_math")))
    again = ingest(catalog, IngestOptions(location=str(shared_data / "math/hendrycks_math")))
    assert (again.counts.rows_added, again.counts.rows_existing) == (0, 12500)
    assert (again.counts.rows_kept, again.counts.rows_rejected) == (
        first.counts.rows_kept,
        first.counts.rows_rejected,
    )


@pytest.mark.shared_data
def test_real_rows_map_to_sane_problems(shared_data, tmp_path):
    from srpo.catalog import Catalog

    catalog = Catalog.open(tmp_path / "c.duckdb", create=True)
    for path in (
        "humaneval/HumanEval.jsonl.gz",
        "rllm_deepscaler/test_code/leetcode.json",
        "aime_amc/qwq_aime25.jsonl",
    ):
        ingest(catalog, IngestOptions(location=str(shared_data / path)))
    with catalog.reader() as con:
        humaneval = con.execute(
            "SELECT tests->>'entry_point', source_index FROM problems WHERE source='humaneval' ORDER BY source_index LIMIT 1"
        ).fetchall()
        assert humaneval == [("has_close_elements", "HumanEval/0")]
        qwq = con.execute(
            "SELECT question, answer FROM problems WHERE source='qwq_aime25' LIMIT 1"
        ).fetchall()
        assert not qwq[0][0].endswith("\\boxed{}.") and qwq[0][1].isdigit()
        entry = con.execute(
            "SELECT DISTINCT tests->>'entry_point' LIKE 'Solution().%' FROM problems WHERE source='leetcode'"
        ).fetchall()
        assert entry == [(True,)]
