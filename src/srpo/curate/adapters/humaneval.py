"""HumanEval (openai/human-eval): complete a function from its signature and docstring.

The question is the prompt (signature + docstring); the solution is prompt + canonical body;
tests are `assert` type: the test code defines `check(candidate)`, called on `entry_point`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srpo.catalog.testspec import AssertTests
from srpo.curate.adapters.base import Adapter, Draft, field_sets, text

_FIELDS = {"task_id", "prompt", "canonical_solution", "test", "entry_point"}


def convert(row: Mapping[str, Any]) -> Draft:
    prompt = text(row, "prompt")
    body = text(row, "canonical_solution", required=False)
    task_id = text(row, "task_id")
    return Draft(
        domain="code",
        question=prompt,
        solution=prompt + body if body is not None else None,
        tests=AssertTests(code=text(row, "test"), entry_point=text(row, "entry_point")),
        metadata={"task_id": task_id, "entry_point": row["entry_point"], "completion_style": True},
        source_index=task_id,
    )


def detect(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    return 1.0 if field_sets(rows) >= _FIELDS else 0.0


ADAPTER = Adapter(
    name="humaneval",
    description="HumanEval: prompt, canonical_solution, test (check(candidate)), entry_point",
    convert=convert,
    detect=detect,
    default_split="test",
    license="MIT",
)
