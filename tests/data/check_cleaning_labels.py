"""Sanity-check tests/data/cleaning_labels.jsonl against a catalog built from ../shared/data.

Checks that every labelled (source, split, source_index) exists in the catalog and came from the
dataset the row names, that labels are known reasons of the row's domain, and prints the counts
per label. It judges no rule: the labels are the ground truth the rules are scored against.

    python tests/data/check_cleaning_labels.py --data ../shared/data   # builds /tmp/labels.duckdb if absent
    python tests/data/check_cleaning_labels.py --catalog X --data ../shared/data
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from select_cleaning_candidates import DEFAULT_CATALOG, DEFAULT_DATA, build_catalog  # noqa: E402

LABELS_FILE = HERE / "cleaning_labels.jsonl"
REASONS = {
    "math": {
        "math.multi_part",
        "math.proof",
        "math.needs_image",
        "math.needs_table",
        "math.unverifiable_answer",
        "math.multiple_choice",
    },
    "code": {"code.file_io", "code.network", "code.environment", "code.special_judge", "code.no_tests"},
}
ALL_REASONS = sorted(REASONS["math"] | REASONS["code"])
FIELDS = ("source", "split", "source_index", "domain", "labels", "note", "dataset")


def load_labels(path: Path = LABELS_FILE) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def problems(rows: list[dict]) -> list[str]:
    """Everything wrong with the file itself (no catalog needed)."""
    errors = []
    seen = set()
    for n, row in enumerate(rows, 1):
        where = f"line {n}"
        if tuple(row) != FIELDS:
            errors.append(f"{where}: fields {list(row)} != {list(FIELDS)}")
            continue
        key = (row["source"], row["split"], row["source_index"])
        if key in seen:
            errors.append(f"{where}: duplicate row {key}")
        seen.add(key)
        labels = row["labels"]
        if not labels or len(set(labels)) != len(labels):
            errors.append(f"{where}: empty or repeated labels {labels}")
        elif labels != ["keep"] and not set(labels) <= REASONS.get(row["domain"], set()):
            errors.append(f"{where}: labels {labels} are not keep or {row['domain']} reasons")
        if not row["note"].strip():
            errors.append(f"{where}: empty note")
    return errors


def missing_in_catalog(rows: list[dict], catalog: Path, data: Path) -> list[str]:
    import duckdb

    con = duckdb.connect(str(catalog), read_only=True)
    found = {
        (s, sp, i): (d, Path(loc).resolve())
        for s, sp, i, d, loc in con.execute(
            "SELECT p.source, p.split, p.source_index, p.domain, i.location "
            "FROM problems p JOIN ingests i USING (ingest_id)"
        ).fetchall()
    }
    con.close()
    errors = []
    for row in rows:
        key = (row["source"], row["split"], row["source_index"])
        if key not in found:
            errors.append(f"not in the catalog: {key}")
            continue
        domain, location = found[key]
        if domain != row["domain"]:
            errors.append(f"{key}: domain {row['domain']} != catalog {domain}")
        if location != (data / row["dataset"]).resolve():
            errors.append(f"{key}: dataset {row['dataset']} != ingested {location}")
    return errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    rows = load_labels()
    if not args.catalog.exists():
        build_catalog(args.catalog, args.data)
    errors = problems(rows) + missing_in_catalog(rows, args.catalog, args.data)
    counts = Counter(label for row in rows for label in row["labels"])
    domains = Counter(row["domain"] for row in rows)
    print(f"rows: {len(rows)}  (math {domains['math']}, code {domains['code']})")
    for label in ["keep", *ALL_REASONS]:
        print(f"  {label:26s} {counts.get(label, 0)}")
    for e in errors:
        print("ERROR", e)
    if errors or len(rows) < 300:
        sys.exit(1)
    print("ok: every row exists in the catalog and came from its dataset")


if __name__ == "__main__":
    main()
