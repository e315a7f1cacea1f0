"""The generic schema, for a user's own data: `question`, `answer`, optional `solution`,
`tests` (srpo's code test format), `domain`, `id`, `split`, `metadata`, `license`.

`problem` / `prompt` are accepted for the question and `ground_truth` / `final_answer` for the
answer. The domain defaults to `code` when tests are given, else `math`. A numeric difficulty or
pass-rate field (`difficulty`, `pass_rate`, `solve_rate`) is kept as `metadata.source_difficulty`,
its name as `metadata.source_difficulty_field`, as the other adapters keep theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srpo.catalog.testspec import TestFormatError, parse_tests
from srpo.curate.adapters.base import (
    Adapter,
    Draft,
    answer_text,
    field_sets,
    first_key,
    number_or_none,
    text,
    type_name,
)
from srpo.errors import RowError

QUESTION_KEYS = ("question", "problem", "prompt")
DIFFICULTY_KEYS = ("difficulty", "pass_rate", "solve_rate")
ANSWER_KEYS = ("answer", "ground_truth", "final_answer")


def _domain(row: Mapping[str, Any], has_tests: bool) -> str:
    domain = row.get("domain")
    if domain is None:
        return "code" if has_tests else "math"
    if domain not in ("math", "code"):
        raise RowError("domain", f"expected 'math' or 'code', got {domain!r}")
    return domain


def _optional_string(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    if isinstance(value, int | str) and not isinstance(value, bool):
        return str(value)
    raise RowError(name, f"expected a string, got {type_name(value)}")


def _source_difficulty(row: Mapping[str, Any]) -> dict[str, Any]:
    key = first_key(row, DIFFICULTY_KEYS)
    value = number_or_none(row[key]) if key else None
    return {"source_difficulty": value, "source_difficulty_field": key} if value is not None else {}


def convert(row: Mapping[str, Any]) -> Draft:
    question = text(row, *QUESTION_KEYS)
    answer_key = first_key(row, ANSWER_KEYS)
    answer = answer_text(row.get(answer_key), answer_key) if answer_key else None
    tests = None
    if row.get("tests") is not None:
        try:
            tests = parse_tests(row["tests"])
        except TestFormatError as error:
            raise RowError("tests", str(error)) from None
    metadata = row.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise RowError("metadata", f"expected an object, got {type_name(metadata)}")
    metadata = {**metadata, **_source_difficulty(row)}
    return Draft(
        domain=_domain(row, tests is not None),
        question=question,
        answer=answer,
        solution=text(row, "solution", required=False),
        tests=tests,
        metadata=metadata,
        source_index=_optional_string(row, "id"),
        split=_optional_string(row, "split"),
        license=_optional_string(row, "license"),
    )


def detect(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    everywhere = field_sets(rows)
    somewhere = set().union(*(set(row) for row in rows))  # user data mixes math and code rows
    if not (set(QUESTION_KEYS) & everywhere):
        return 0.0
    if set(ANSWER_KEYS) & somewhere or {"tests", "domain"} & somewhere:
        return 0.5 if "question" in everywhere else 0.3
    return 0.0


ADAPTER = Adapter(
    name="generic",
    description="your own data: question, answer, optional solution, tests, domain, id, split",
    convert=convert,
    detect=detect,
)
