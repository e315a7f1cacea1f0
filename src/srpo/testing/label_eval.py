"""Scoring the cleaning rules against hand labels (tests/data/cleaning_labels.jsonl).

Each labelled row names a problem by (source, split, source_index) and lists every reason that
applies to it (or `keep`). Every rule is scored on its own, on the text the rules see (the raw
question, before normalisation): precision = labelled rows it fires on that carry its reason /
all labelled rows it fires on; recall = rows carrying its reason that it fires on / all rows
carrying its reason. Undefined ratios (a rule that never fires, a reason without positives)
are reported as such, not as 1.0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.catalog.records import Problem
from srpo.catalog.testspec import parse_tests
from srpo.curate.config import FilterConfig
from srpo.curate.rules import reasons_for, rules

if TYPE_CHECKING:
    import duckdb

# Every registered rule, math first (the order the scores are printed in).
REASONS = tuple(r.reason for domain in ("math", "code") for r in rules(domain))


@dataclass(frozen=True, slots=True)
class Label:
    key: tuple[str, str, str]
    domain: str
    labels: frozenset[str]
    note: str


@dataclass(slots=True)
class RuleScore:
    reason: str
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        fired = self.true_positive + self.false_positive
        return self.true_positive / fired if fired else None

    @property
    def recall(self) -> float | None:
        positives = self.true_positive + self.false_negative
        return self.true_positive / positives if positives else None


def load_labels(path: Path) -> list[Label]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        Label(
            (r["source"], r["split"], r["source_index"]),
            r["domain"],
            frozenset(r["labels"]),
            r.get("note", ""),
        )
        for r in rows
    ]


def _raw_problems(
    con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str, str]]
) -> dict[tuple, Problem]:
    import pyarrow as pa

    table = pa.table({"source": [k[0] for k in keys], "split": [k[1] for k in keys],
                      "source_index": [k[2] for k in keys]})  # fmt: skip
    con.register("srpo_label_keys", table)
    try:
        rows = con.execute(
            "SELECT source, split, source_index, domain, question, answer, solution, tests, metadata "
            "FROM problems JOIN srpo_label_keys USING (source, split, source_index)"
        ).fetchall()
    finally:
        con.unregister("srpo_label_keys")
    problems = {}
    for source, split, index, domain, question, answer, solution, tests, metadata in rows:
        meta: dict[str, Any] = json.loads(metadata) if metadata else {}
        problems[(source, split, index)] = Problem(
            source=source, split=split, source_index=index, domain=domain,
            question=meta.get("question_raw", question), answer=answer, solution=solution,
            tests=parse_tests(tests) if tests else None, metadata=meta, row_hash="",
        )  # fmt: skip
    return problems


@dataclass(slots=True)
class Evaluation:
    scores: dict[str, RuleScore]
    rows: int
    missing: list[tuple[str, str, str]]


def evaluate(con: duckdb.DuckDBPyConnection, labels: Sequence[Label], config: FilterConfig) -> Evaluation:
    problems = _raw_problems(con, [label.key for label in labels])
    scores = {reason: RuleScore(reason) for reason in REASONS}
    missing = []
    for label in labels:
        problem = problems.get(label.key)
        if problem is None:
            missing.append(label.key)
            continue
        fired = set(reasons_for(problem, config))
        for reason, score in scores.items():
            where = f"{'/'.join(label.key)} ({label.note})"
            if reason in fired and reason in label.labels:
                score.true_positive += 1
            elif reason in fired:
                score.false_positive += 1
                score.misses.append(f"false positive: {where}")
            elif reason in label.labels:
                score.false_negative += 1
                score.misses.append(f"missed: {where}")
    return Evaluation(scores=scores, rows=len(labels) - len(missing), missing=missing)
