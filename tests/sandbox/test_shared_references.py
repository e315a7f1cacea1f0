"""Reference solutions of the real datasets in ../shared/data pass their own tests in the sandbox."""

from __future__ import annotations

import gzip
import json

import pytest

from srpo.curate.adapters import get_adapter
from srpo.sandbox import Limits
from srpo.verify.code import ReferenceItem, verify_references


def _references(adapter_name: str, rows: list[dict]) -> list[ReferenceItem]:
    adapter = get_adapter(adapter_name)
    return [ReferenceItem(solution=d.solution, tests=d.tests) for d in map(adapter.convert, rows)]


@pytest.mark.shared_data
def test_every_humaneval_canonical_solution_is_verified(shared_data, pool):
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    results = verify_references(_references("humaneval", rows), runs=2, pool=pool)
    failures = {
        row["task_id"]: r.reason for row, r in zip(rows, results, strict=True) if r.status != "verified"
    }
    assert len(rows) == 164 and failures == {}
    assert {r.isolation for r in results} == {pool.isolation}


@pytest.mark.slow
@pytest.mark.shared_data
def test_every_sanitized_mbpp_reference_is_verified(shared_data, pool):
    rows = json.loads((shared_data / "mbpp" / "sanitized-mbpp.json").read_text(encoding="utf-8"))
    # Task 123 needs 2.5 CPU seconds for one assert: on a loaded 2-core machine, over 5 s of wall.
    roomy = Limits(timeout_s=30.0, total_timeout_s=120.0)
    results = verify_references(_references("mbpp", rows), runs=1, pool=pool, limits=roomy)
    failures = {
        row["task_id"]: r.reason for row, r in zip(rows, results, strict=True) if r.status != "verified"
    }
    assert len(rows) == 427 and failures == {}
