"""Precision and recall of every cleaning rule on the hand-labelled set.

Builds a catalog from ../shared/data (or uses --catalog), then scores each rule on the rows of
tests/data/cleaning_labels.jsonl. Prints one `rule <reason>` line each, and with --misses the
rows each rule gets wrong.

Usage: just bench cleaning [--catalog PATH] [--misses]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import shared_data_or_exit
from ingest import DATASETS

LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "cleaning_labels.jsonl"


def build(catalog_path: Path, root: Path) -> None:
    from srpo.catalog import Catalog
    from srpo.curate.ingest import IngestOptions, ingest

    catalog = Catalog.open(catalog_path, create=True)
    for dataset in DATASETS:
        ingest(catalog, IngestOptions(location=str(root / dataset)))


def _ratio(value: float | None, hits: int, total: int) -> str:
    return "n/a (no cases)" if value is None else f"{value:.3f} ({hits}/{total})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, help="a catalog already holding ../shared/data")
    parser.add_argument("--misses", action="store_true", help="list the rows each rule gets wrong")
    args = parser.parse_args()
    from srpo.catalog import Catalog
    from srpo.curate.config import FilterConfig
    from srpo.testing.label_eval import evaluate, load_labels

    with tempfile.TemporaryDirectory() as scratch:
        path = args.catalog or Path(scratch) / "labels.duckdb"
        if not path.exists():
            build(path, shared_data_or_exit())
        labels = load_labels(LABELS)
        with Catalog.open(path).reader() as con:
            result = evaluate(con, labels, FilterConfig())
    print(f"labelled_rows: {result.rows}")
    for reason, score in result.scores.items():
        fired = score.true_positive + score.false_positive
        positives = score.true_positive + score.false_negative
        print(
            f"rule {reason}: precision {_ratio(score.precision, score.true_positive, fired)}, "
            f"recall {_ratio(score.recall, score.true_positive, positives)}"
        )
        if args.misses:
            for miss in score.misses:
                print(f"  {miss}")
    if result.missing:
        print(f"missing_rows: {len(result.missing)}")


if __name__ == "__main__":
    main()
