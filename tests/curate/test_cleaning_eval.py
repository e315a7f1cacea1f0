"""Every cleaning rule meets its precision and recall targets on the hand-labelled real rows.

The labels (tests/data/cleaning_labels.jsonl) were written before the rules were tuned. A rule
with no labelled positives (the shared data holds no proofs, file I/O or network tasks) must
at least fire on no labelled row; test_rules.py shows it works on constructed examples.
"""

from __future__ import annotations

import pytest

from srpo.curate.config import FilterConfig
from srpo.testing.label_eval import evaluate, load_labels
from tests.helpers import TEST_DATA

LABELS = TEST_DATA / "cleaning_labels.jsonl"


@pytest.mark.slow
@pytest.mark.shared_data
def test_every_rule_meets_precision_and_recall_on_the_labelled_set(shared_catalog):
    catalog, _ = shared_catalog
    with catalog.reader() as con:
        result = evaluate(con, load_labels(LABELS), FilterConfig())
    assert result.missing == [] and result.rows >= 300
    for reason, score in result.scores.items():
        if score.precision is not None:
            assert score.precision >= 0.95, (reason, score.misses)
        if score.recall is not None:
            assert score.recall >= 0.9, (reason, score.misses)
        if score.true_positive + score.false_negative == 0:
            assert score.false_positive == 0, (reason, score.misses)
