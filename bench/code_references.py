"""Check the reference solutions of the code datasets in ../shared/data against their own tests.

    python bench/code_references.py [--only humaneval,mbpp] [--runs 2] [--workers N] [--show 20]

The data folder is $SRPO_SHARED_DATA, else ../shared/data beside the repository.

Each row goes through srpo's adapter (`srpo.curate.adapters`) into the catalog's test format, then
`srpo.verify.code.verify_references` runs its reference solution `--runs` times in the sandbox.
Prints `key: value` lines per dataset: counts per verification status, seconds, and the failures
with their reasons (rows the adapter rejects are counted as `invalid`). Never asserts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, report

DATASETS = {
    "humaneval": ("humaneval", "humaneval/HumanEval.jsonl.gz"),
    "mbpp": ("mbpp", "mbpp/mbpp.jsonl"),
    "mbpp_sanitized": ("mbpp", "mbpp/sanitized-mbpp.json"),
    "leetcode_test": ("leetcode", "rllm_deepscaler/test_code/leetcode.json"),
    "leetcode_train": ("leetcode", "rllm_deepscaler/train_code/leetcode.json"),
    "code_contests": ("codecontests", "rllm_deepscaler/test_code/code_contests.json"),
    "codeforces": ("codecontests", "rllm_deepscaler/test_code/codeforces.json"),
}


def read_rows(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def row_name(row: dict[str, Any], index: int) -> str:
    for key in ("task_id", "name"):
        if row.get(key) is not None:
            return str(row[key])
    return f"row {index}"


def check(name: str, adapter_name: str, path: Path, args: argparse.Namespace) -> None:
    from srpo.curate.adapters import get_adapter
    from srpo.errors import RowError
    from srpo.verify.code import ReferenceItem, verify_references

    adapter, items, names, invalid = get_adapter(adapter_name), [], [], Counter()
    for index, row in enumerate(read_rows(path)[: args.limit]):
        try:
            draft = adapter.convert(row)
        except RowError as error:
            invalid[str(error)[:80]] += 1
            continue
        items.append(ReferenceItem(solution=draft.solution, tests=draft.tests))
        names.append(row_name(row, index))
    started = time.perf_counter()
    results = verify_references(items, runs=args.runs, workers=args.workers)
    seconds = time.perf_counter() - started
    counts = Counter(result.status for result in results)
    ran = len(items) - sum(1 for r in results if r.status == "unverifiable" and not r.grades)
    report(f"{name} rows", len(items) + sum(invalid.values()))
    report(f"{name} invalid", sum(invalid.values()))
    for status in ("verified", "wrong", "flaky", "unverifiable"):
        report(f"{name} {status}", counts[status])
    report(f"{name} time", seconds, "s")
    if ran:
        report(f"{name} throughput", ran * args.runs / seconds, "programs/s")
    reasons = Counter(r.reason.split(":")[0] for r in results if r.status == "unverifiable")
    for reason, count in reasons.most_common():
        report(f"{name} unverifiable because", f"{reason} x{count}")
    for reason, count in invalid.most_common():
        report(f"{name} invalid because", f"{reason} x{count}")
    shown = 0
    for row, result in zip(names, results, strict=True):
        if result.status in ("wrong", "flaky") and shown < args.show:
            where = f" (line {result.failure.line})" if result.failure and result.failure.line else ""
            report(f"{name} {result.status}", f"{row}: {result.reason[:160]}{where}")
            shown += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(DATASETS), help="datasets, comma-separated")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--limit", type=int, default=None, help="first N rows of each dataset")
    parser.add_argument("--show", type=int, default=30, help="failures listed per dataset")
    args = parser.parse_args()
    if not SHARED_DATA.is_dir():
        print(f"skipped: shared datasets not found at {SHARED_DATA} (set SRPO_SHARED_DATA)")
        return
    for name in args.only.split(","):
        adapter_name, relative = DATASETS[name]
        path = SHARED_DATA / relative
        if not path.is_file():
            report(f"{name} skipped", f"{path} not found")
            continue
        check(name, adapter_name, path, args)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
