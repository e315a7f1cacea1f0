"""GSM8K (openai/grade-school-math): `question`, and `answer` = worked solution + `#### final`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from srpo.curate.adapters.base import Adapter, Draft, field_sets, share, text
from srpo.errors import RowError

_CALCULATOR = re.compile(r"<<[^<>]*>>")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def convert(row: Mapping[str, Any]) -> Draft:
    question = text(row, "question")
    worked = text(row, "answer")
    solution, marker, final = worked.rpartition("####")
    if not marker or not final.strip():
        raise RowError("answer", "no '#### <final answer>' line")
    metadata: dict[str, Any] = {}
    annotations = len(_CALCULATOR.findall(solution))
    if annotations:
        metadata["calculator_annotations_removed"] = annotations
    return Draft(
        domain="math",
        question=question,
        answer=_THOUSANDS.sub("", final.strip()),
        solution=_CALCULATOR.sub("", solution).strip() or None,
        metadata=metadata,
    )


def detect(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    if not {"question", "answer"} <= field_sets(rows):
        return 0.0
    return 0.95 * share(rows, lambda r: "####" in r["answer"])


ADAPTER = Adapter(
    name="gsm8k",
    description="GSM8K: question + worked answer ending in '#### <number>'",
    convert=convert,
    detect=detect,
    license="MIT",
)
