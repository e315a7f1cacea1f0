"""What an adapter is, and the field helpers every adapter uses.

An adapter maps one raw row of a public dataset onto a `Draft` (the dataset-independent part of
a problem) and says how well a sample of rows fits it (`detect`). It raises `RowError` naming
the field when a row cannot be mapped; the ingest records that row in `invalid_rows`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from srpo.catalog.records import Domain
from srpo.catalog.testspec import CodeTests
from srpo.errors import RowError


@dataclass(slots=True)
class Draft:
    """A row mapped onto the problem schema, before cleaning and identity."""

    domain: Domain
    question: str
    answer: str | None = None
    solution: str | None = None
    tests: CodeTests | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    source_index: str | None = None  # a natural id unique within its split (task_id, unique_id)
    split: str | None = None  # a split the row itself names (MBPP task ranges, MATH unique_id)
    license: str | None = None


Detector = Callable[[Sequence[Mapping[str, Any]], str], float]


@dataclass(frozen=True, slots=True)
class Adapter:
    """A named mapping from one public schema to `Draft`s.

    `detect(sample_rows, file_name)` returns 0 when the rows cannot be this dataset and a score
    up to 1 for how specific the match is; the highest score wins auto-detection.
    """

    name: str
    description: str
    convert: Callable[[Mapping[str, Any]], Draft]
    detect: Detector
    default_split: str | None = None
    license: str | None = None


# ----------------------------------------------------------------------------- field helpers

_TYPE_NAMES = {str: "string", int: "number", float: "number", bool: "boolean", list: "array",
               dict: "object", type(None): "null"}  # fmt: skip


def type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def first_key(row: Mapping[str, Any], names: Sequence[str]) -> str | None:
    return next((name for name in names if name in row), None)


def text(row: Mapping[str, Any], *names: str, required: bool = True) -> str | None:
    """The first of `names` present in the row, which must hold a string."""
    key = first_key(row, names)
    if key is None or row[key] is None:
        if required:
            raise RowError(names[0], "missing")
        return None
    value = row[key]
    if not isinstance(value, str):
        raise RowError(key, f"expected a string, got {type_name(value)}")
    return value


def answer_text(value: Any, field_name: str) -> str | None:
    """A gold answer as text: strings stripped, integral floats without '.0', None kept."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RowError(field_name, "expected a string or number, got boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value.strip()
    raise RowError(field_name, f"expected a string or number, got {type_name(value)}")


def integer_answer(answer: str | None) -> str | None:
    """Competition answers such as '025' or '27.0' written as the integer they are."""
    if answer is None:
        return None
    match = re.fullmatch(r"([+-]?\d+)(?:\.0+)?", answer.strip())
    return str(int(match.group(1))) if match else answer


def json_value(row: Mapping[str, Any], name: str, kinds: tuple[type, ...]) -> Any:
    """A field that may hold a value of `kinds` or a JSON string encoding one."""
    value = row.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise RowError(name, f"not valid JSON: {error.msg}") from error
    if not isinstance(value, kinds):
        expected = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise RowError(name, f"expected {expected}, got {type_name(value)}")
    return value


def string_list(row: Mapping[str, Any], name: str, *, required: bool = True) -> list[str]:
    if row.get(name) is None:
        if required:
            raise RowError(name, "missing")
        return []
    values = json_value(row, name, (list,))
    for i, item in enumerate(values):
        if not isinstance(item, str):
            raise RowError(name, f"item {i} is {type_name(item)}, expected a string")
    return values


# Trailing instructions that datasets bake into the question; prompt building adds its own.
_INSTRUCTIONS = (
    r"Let'?s think step by step and output the final answer within \\boxed\{\}\.?",
    r"Please reason step by step,? and put your final answer within \\boxed\{\}\.?",
    r"Put your final answer within \\boxed\{\}\.?",
    r"Return your final response as 'Final Answer: \\boxed\{<answer>\}'.*",
)
_TRAILING_INSTRUCTION = re.compile(r"\s*(?:" + "|".join(_INSTRUCTIONS) + r")\s*$", re.DOTALL)


def strip_instruction(question: str, metadata: dict[str, Any]) -> str:
    """Remove a baked-in answer-format instruction, noting it in metadata."""
    stripped = _TRAILING_INSTRUCTION.sub("", question)
    if stripped != question:
        metadata["instruction_removed"] = question[len(stripped) :].strip()
    return stripped.strip()


def number_or_none(value: Any) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


# ------------------------------------------------------------------------- detection helpers


def field_sets(rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Fields present in every sampled row."""
    sets = [set(row) for row in rows]
    return set.intersection(*sets) if sets else set()


def share(rows: Sequence[Mapping[str, Any]], predicate: Callable[[Mapping[str, Any]], bool]) -> float:
    if not rows:
        return 0.0
    hits = 0
    for row in rows:
        with contextlib.suppress(TypeError, KeyError, AttributeError, ValueError):
            hits += bool(predicate(row))  # a row of another shape simply does not count
    return hits / len(rows)
