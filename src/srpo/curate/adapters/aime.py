"""Competition answer sets: AIME and AMC (QwQ, Qwen2.5-Math, DeepScaleR/rLLM copies).

Rows hold the problem (`problem`, `question` or `prompt`) and a numeric final answer (int, float
such as `27.0`, or a string such as `"025"`), optionally a worked solution, year, problem number
and the AoPS url. Integral answers are stored as plain integers (`025` -> `25`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srpo.curate.adapters.base import (
    Adapter,
    Draft,
    answer_text,
    field_sets,
    integer_answer,
    number_or_none,
    share,
    strip_instruction,
    text,
)

_CONTEXT_FIELDS = ("year", "aime_number", "problem_number", "id", "url")


def convert(row: Mapping[str, Any]) -> Draft:
    metadata: dict[str, Any] = {}
    question = strip_instruction(text(row, "problem", "question", "prompt"), metadata)
    raw_answer = answer_text(row.get("answer"), "answer")
    answer = integer_answer(raw_answer)
    if answer != raw_answer:
        metadata["answer_raw"] = row.get("answer")
    for name in _CONTEXT_FIELDS:
        if row.get(name) not in (None, ""):
            metadata[name] = row[name]
    if row.get("difficulty") is not None:
        metadata["source_difficulty"] = number_or_none(row["difficulty"])
    return Draft(
        domain="math",
        question=question,
        answer=answer,
        solution=text(row, "solution", required=False),
        metadata=metadata,
    )


def _is_competition_url(row: Mapping[str, Any]) -> bool:
    url = str(row.get("url", "")).lower()
    return "aime" in url or "amc" in url


def detect(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    fields = field_sets(rows)
    if "answer" not in fields or not ({"problem", "question", "prompt"} & fields):
        return 0.0
    if {"year", "problem_number"} <= fields or share(rows, _is_competition_url) > 0.5:
        return 0.95
    named = any(word in file_name.lower() for word in ("aime", "amc"))
    numeric = share(rows, lambda r: integer_answer(answer_text(r["answer"], "answer")).isdigit())
    return 0.75 if named and numeric > 0.9 else 0.0


ADAPTER = Adapter(
    name="aime",
    description="AIME / AMC competition sets: problem + numeric answer (+ solution, year, url)",
    convert=convert,
    detect=detect,
    default_split="test",
)
