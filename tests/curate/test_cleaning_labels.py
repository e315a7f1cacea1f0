"""The labelled evaluation set for the cleaning rules is well formed and points at real rows.

tests/data/cleaning_labels.jsonl holds hand labels (keep, or every cleaning reason that applies)
for rows of ../shared/data, referenced by (source, split, source_index); see
tests/data/CLEANING_LABELS.md. These tests check the file, not any rule.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.helpers import TEST_DATA

DATA = TEST_DATA


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _module("check_cleaning_labels")


def test_labels_file_is_well_formed():
    rows = check.load_labels()
    assert check.problems(rows) == []
    assert len(rows) >= 300
    assert {row["domain"] for row in rows} == {"math", "code"}
    assert all(not Path(row["dataset"]).is_absolute() and ".." not in row["dataset"] for row in rows)


def test_labels_cover_the_committed_candidate_list_in_order():
    rows = check.load_labels()
    candidates = [json.loads(line) for line in (DATA / "cleaning_candidates.jsonl").read_text().splitlines()]
    key = ("source", "split", "source_index", "domain", "dataset")
    assert [tuple(r[k] for k in key) for r in rows] == [tuple(c[k] for k in key) for c in candidates]


def test_every_rule_the_data_has_positives_for_is_represented():
    counts: dict[str, int] = {}
    for row in check.load_labels():
        for label in row["labels"]:
            counts[label] = counts.get(label, 0) + 1
    for reason in ("math.multi_part", "math.needs_image", "math.needs_table", "math.multiple_choice"):
        assert counts.get(reason, 0) >= 15, reason
    assert counts.get("code.special_judge", 0) >= 15
    assert counts.get("keep", 0) >= 150


@pytest.mark.slow
@pytest.mark.shared_data
def test_every_labelled_row_exists_in_a_catalog_built_from_shared_data(shared_catalog, shared_data):
    catalog, _ = shared_catalog
    assert check.missing_in_catalog(check.load_labels(), catalog.path, shared_data) == []
