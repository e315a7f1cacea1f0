"""Ingest throughput: every dataset in ../shared/data into a fresh catalog, end to end.

Prints rows/s for srpo's ingest (reading, adapters, the cleaning pipeline, catalog writes),
the re-ingest rate (everything already present), and, for context, the rate of only reading
and JSON-decoding the same files (the floor any ingest pays).

Usage: just bench ingest [--batch-size N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peak_rss_mib, report, shared_data_or_exit

DATASETS = [
    "gsm8k/train.jsonl", "gsm8k/test.jsonl", "math/math500_test.jsonl", "math/hendrycks_math",
    "humaneval/HumanEval.jsonl.gz", "mbpp/mbpp.jsonl", "mbpp/sanitized-mbpp.json",
    "aime_amc/qwq_aime24.jsonl", "aime_amc/qwq_aime25.jsonl", "aime_amc/qwen25math_aime24.jsonl",
    "aime_amc/qwen25math_amc23.jsonl", "rllm_deepscaler/test_math/aime.json",
    "rllm_deepscaler/test_math/amc.json", "rllm_deepscaler/test_math/math.json",
    "rllm_deepscaler/train_math/aime.json", "rllm_deepscaler/train_math/math.json",
    "rllm_deepscaler/test_code/code_contests.json", "rllm_deepscaler/test_code/codeforces.json",
    "rllm_deepscaler/test_code/leetcode.json", "rllm_deepscaler/train_code/leetcode.json",
    "deepscaler_sample/deepscaler_train.parquet", "deepscaler_sample/deepscaler_val.parquet",
]  # fmt: skip


def ingest_all(catalog_path: Path, root: Path, batch_size: int) -> tuple[int, int, float]:
    from srpo.catalog import Catalog
    from srpo.curate.ingest import IngestOptions, ingest

    catalog = Catalog.open(catalog_path, create=True)
    read = added = 0
    started = time.perf_counter()
    for dataset in DATASETS:
        result = ingest(catalog, IngestOptions(location=str(root / dataset), batch_size=batch_size))
        read += result.counts.rows_read
        added += result.counts.rows_added
    return read, added, time.perf_counter() - started


def read_only(root: Path) -> tuple[int, float]:
    from srpo.curate.sources import RawRow, discover
    from srpo.curate.table_rows import read_rows

    rows = 0
    started = time.perf_counter()
    for dataset in DATASETS:
        for source_file in discover(root / dataset):
            rows += sum(isinstance(row, RawRow) for row in read_rows(source_file))
    return rows, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    root = shared_data_or_exit()
    with tempfile.TemporaryDirectory() as scratch:
        catalog_path = Path(scratch) / "bench.duckdb"
        read, added, seconds = ingest_all(catalog_path, root, args.batch_size)
        report("datasets", len(DATASETS))
        report("rows_read", read, "rows")
        report("rows_added", added, "rows")
        report("ingest_seconds", seconds, "s")
        report("ingest_rate", read / seconds, "rows/s")
        again, _, again_seconds = ingest_all(catalog_path, root, args.batch_size)
        report("reingest_rate", again / again_seconds, "rows/s")
        report("catalog_size", catalog_path.stat().st_size / 2**20, "MiB")
    rows, floor_seconds = read_only(root)
    report("read_and_decode_only_rate", rows / floor_seconds, "rows/s")
    report("peak_rss", peak_rss_mib(), "MiB")


if __name__ == "__main__":
    main()
