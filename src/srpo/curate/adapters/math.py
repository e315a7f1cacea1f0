"""Hendrycks MATH and its derivatives (PRM800K splits, MATH-500).

Accepts the original one-problem-per-file JSON (`problem`, `level`, `type`, `solution`) and
JSONL/JSON with `problem`, `solution` and/or `answer` (plus `subject`, `level`, `unique_id`).
The gold answer is `answer` when given, else the last `\\boxed{}` of the solution.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from srpo.curate.adapters.base import (
    Adapter,
    Draft,
    answer_text,
    field_sets,
    number_or_none,
    strip_instruction,
    text,
)
from srpo.verify.math.boxed import last_boxed

_LEVEL = re.compile(r"Level (\d)")


def _level(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _LEVEL.match(str(value or ""))
    return int(match.group(1)) if match else None


def convert(row: Mapping[str, Any]) -> Draft:
    metadata: dict[str, Any] = {}
    question = strip_instruction(text(row, "problem", "question"), metadata)
    solution = text(row, "solution", required=False)
    answer = answer_text(row.get("answer"), "answer")
    if answer is None and solution:
        answer = last_boxed(solution)
        metadata["answer_from"] = "solution_boxed"
    if "level" in row:
        metadata["level"] = _level(row["level"])
        if metadata["level"] is None:
            metadata["level_raw"] = row["level"]
    subject = row.get("subject") or row.get("type")
    if subject:
        metadata["subject"] = subject
    if row.get("difficulty") is not None:
        metadata["source_difficulty"] = number_or_none(row["difficulty"])
    unique_id = row.get("unique_id")
    split = None
    if isinstance(unique_id, str) and unique_id:
        metadata["unique_id"] = unique_id
        split = unique_id.split("/", 1)[0] if unique_id.startswith(("train/", "test/")) else None
    return Draft(
        domain="math",
        question=question,
        answer=answer,
        solution=solution,
        metadata=metadata,
        source_index=unique_id if isinstance(unique_id, str) and unique_id else None,
        split=split,
    )


def detect_math(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    fields = field_sets(rows)
    if "problem" not in fields or not ({"solution", "answer"} & fields):
        return 0.0
    if "solution" in fields and ({"level", "type", "subject"} & fields):
        return 0.85
    return 0.0


def detect_math500(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    fields = field_sets(rows)
    if {"problem", "answer", "unique_id"} <= fields:
        return 0.9
    return 0.0


MATH = Adapter(
    name="math",
    description="Hendrycks MATH: per-problem JSON files or JSONL with problem/solution/answer",
    convert=convert,
    detect=detect_math,
    license="MIT",
)

MATH500 = Adapter(
    name="math500",
    description="MATH-500 (PRM800K test split): problem, solution, answer, subject, level, unique_id",
    convert=convert,
    detect=detect_math500,
    default_split="test",
    license="MIT",
)
