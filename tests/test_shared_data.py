"""Every dataset in ../shared/data ingests with its auto-detected adapter and the right counts."""

from __future__ import annotations

import pytest

from srpo.catalog import Catalog
from srpo.curate.ingest import IngestOptions, ingest

# path, adapter, source, rows per split, rejected (real quirks: empty \boxed{}, null answers)
EXPECTED = [
    ("gsm8k/train.jsonl", "gsm8k", "gsm8k", {"train": 7473}, 0),
    ("gsm8k/test.jsonl", "gsm8k", "gsm8k", {"test": 1319}, 0),
    ("math/math500_test.jsonl", "math500", "math500", {"test": 500}, 0),
    ("math/hendrycks_math", "math", "hendrycks_math", {"train": 7500, "test": 5000}, 2),
    ("humaneval/HumanEval.jsonl.gz", "humaneval", "humaneval", {"test": 164}, 0),
    ("mbpp/mbpp.jsonl", "mbpp", "mbpp", {"prompt": 10, "test": 500, "validation": 90, "train": 374}, 0),
    (
        "mbpp/sanitized-mbpp.json",
        "mbpp",
        "sanitized-mbpp",
        {"prompt": 7, "test": 257, "validation": 43, "train": 120},
        0,
    ),
    ("aime_amc/qwq_aime24.jsonl", "aime", "qwq_aime24", {"test": 30}, 0),
    ("aime_amc/qwq_aime25.jsonl", "aime", "qwq_aime25", {"test": 30}, 0),
    ("aime_amc/qwen25math_aime24.jsonl", "aime", "qwen25math_aime24", {"test": 30}, 0),
    ("aime_amc/qwen25math_amc23.jsonl", "aime", "qwen25math_amc23", {"test": 40}, 0),
    ("rllm_deepscaler/test_math/aime.json", "aime", "aime", {"test": 30}, 0),
    ("rllm_deepscaler/test_math/amc.json", "aime", "amc", {"test": 83}, 0),
    ("rllm_deepscaler/test_math/math.json", "math500", "math", {"test": 500}, 0),
    ("rllm_deepscaler/train_math/aime.json", "aime", "aime", {"train": 975}, 0),
    ("rllm_deepscaler/train_math/math.json", "deepscaler", "math", {"train": 7474}, 4),
    ("rllm_deepscaler/test_code/code_contests.json", "codecontests", "code_contests", {"test": 165}, 0),
    ("rllm_deepscaler/test_code/codeforces.json", "codecontests", "codeforces", {"test": 408}, 0),
    ("rllm_deepscaler/test_code/leetcode.json", "leetcode", "leetcode", {"test": 200}, 0),
    ("rllm_deepscaler/train_code/leetcode.json", "leetcode", "leetcode", {"train": 1889}, 0),
    ("deepscaler_sample/deepscaler_train.parquet", "deepscaler", "deepscaler", {"train": 2000}, 0),
    ("deepscaler_sample/deepscaler_val.parquet", "deepscaler", "deepscaler", {"validation": 100}, 0),
]


@pytest.mark.slow
@pytest.mark.shared_data
def test_all_shared_datasets_ingest_with_right_counts_and_reingest_adds_nothing(shared_data, tmp_path):
    catalog = Catalog.open(tmp_path / "all.duckdb", create=True)
    for path, adapter, source, splits, rejected in EXPECTED:
        report = ingest(catalog, IngestOptions(location=str(shared_data / path)))
        total = sum(splits.values())
        assert (report.adapter, report.source, report.splits) == (adapter, source, splits), path
        assert (report.counts.rows_read, report.counts.rows_added, report.counts.rows_invalid) == (
            total,
            total,
            0,
        ), path
        assert report.counts.rows_rejected == rejected, path
    with catalog.reader() as con:
        assert con.execute("SELECT count(*) FROM problems").fetchall() == [
            (sum(sum(e[3].values()) for e in EXPECTED),)
        ]
    again = ingest(catalog, IngestOptions(location=str(shared_data / "math/hendrycks_math")))
    assert (again.counts.rows_added, again.counts.rows_existing) == (0, 12500)


@pytest.mark.shared_data
def test_real_rows_map_to_sane_problems(shared_data, tmp_path):
    catalog = Catalog.open(tmp_path / "c.duckdb", create=True)
    for path in (
        "humaneval/HumanEval.jsonl.gz",
        "rllm_deepscaler/test_code/leetcode.json",
        "aime_amc/qwq_aime25.jsonl",
    ):
        ingest(catalog, IngestOptions(location=str(shared_data / path)))
    with catalog.reader() as con:
        humaneval = con.execute("SELECT tests->>'entry_point', source_index FROM problems WHERE source='humaneval' "
                                "ORDER BY source_index LIMIT 1").fetchall()  # fmt: skip
        assert humaneval == [("has_close_elements", "HumanEval/0")]
        qwq = con.execute(
            "SELECT question, answer FROM problems WHERE source='qwq_aime25' LIMIT 1"
        ).fetchall()
        assert not qwq[0][0].endswith("\\boxed{}.") and qwq[0][1].isdigit()
        entry = con.execute("SELECT DISTINCT tests->>'entry_point' LIKE 'Solution().%' FROM problems "
                            "WHERE source='leetcode'").fetchall()  # fmt: skip
        assert entry == [(True,)]
