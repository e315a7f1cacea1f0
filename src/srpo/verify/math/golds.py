"""Checking a math problem's gold answer before anyone trains on it.

A gold is `verified` when it parses and, where the reference solution boxes an answer, agrees
with it. It is `ambiguous` when it holds several answers for a question that asks for one
("3 or 5", "x=1; y=2"), or when the solution boxes several different answers and the gold keeps
only some of them (MATH's gold is the solution's *last* box, which drops the others of an
"enter all solutions" problem). It is `wrong` when it disagrees with the solution's boxed answer,
and `unverifiable` when it cannot be read at all.

Reasons are dotted codes followed by a detail: `gold.matches_solution`, `gold.parsed`,
`gold.several_answers: ...`, `gold.partial: ...`, `gold.solution_boxes_differ: ...`,
`gold.disagrees_with_solution: ...`, `gold.unparseable: ...`, `gold.missing`, `gold.timeout`.

Covers: the checks on one problem (run in a worker: they need sympy). Does not cover: selecting
problems or writing results (see `verify_catalog`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from srpo.verify.math.boxed import top_level_boxes
from srpo.verify.math.equivalence import GoldError, Prepared, compare, prepare_gold
from srpo.verify.math.normalise import text_key
from srpo.verify.math.numbers import parse_plain_number
from srpo.verify.math.structure import BareList, Bracketed, Matrix, Scalar, Shape, Union, split_top_level

_ASKS_FOR_SEVERAL = re.compile(
    r"separated by|separate (?:your|the) answers|comma|semicolon|in (?:increasing|decreasing) "
    r"order|\b(?:all|both|each|every|list|solve)\b|\b(?:values|solutions|roots|zeros|zeroes|points|"
    r"numbers|integers|answers|pairs|possibilities|intervals)\b",
    re.IGNORECASE,
)
_PHANTOM = re.compile(r"\\phantom\{[^{}]*\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldTask:
    """One problem's texts, as the worker needs them."""

    question: str
    answer: str | None
    solution: str | None


@dataclass(frozen=True, slots=True)
class GoldCheck:
    status: str  # verified, wrong, ambiguous, unverifiable
    reason: str

    @property
    def code(self) -> str:
        return self.reason.split(":", 1)[0]


def asks_for_several(question: str) -> bool:
    """Does the question ask for more than one value (a list, all solutions, both roots)?"""
    return bool(_ASKS_FOR_SEVERAL.search(question))


def check_gold(task: GoldTask) -> GoldCheck:
    if task.answer is None or not task.answer.strip():
        return GoldCheck("unverifiable", "gold.missing: the problem has no gold answer")
    try:
        gold = prepare_gold(task.answer)
        _check_parses(gold.shape)
    except GoldError as error:
        return GoldCheck("unverifiable", f"gold.unparseable: {error}")
    several = isinstance(gold.shape, BareList)
    if several and not asks_for_several(task.question):
        return GoldCheck(
            "ambiguous",
            f"gold.several_answers: {_short(task.answer)} for a question asking for one",
        )
    boxes = _solution_boxes(task.solution or "")
    if not boxes:
        return GoldCheck("verified", "gold.parsed: no boxed answer in a reference solution to compare")
    return _against_boxes(task, gold, boxes)


def _against_boxes(task: GoldTask, gold: Prepared, boxes: list[str]) -> GoldCheck:
    answer = task.answer or ""
    distinct = _distinct(boxes)
    if len(distinct) > 1:
        if _equal(answer, ", ".join(distinct)):
            return GoldCheck("verified", "gold.matches_solution: equals the solution's boxed answers")
        listed = " | ".join(_short(box) for box in distinct)
        if any(_equal(answer, box) for box in distinct) and asks_for_several(task.question):
            return GoldCheck(
                "ambiguous", f"gold.partial: solution boxes {listed}; gold keeps {_short(answer)}"
            )
        return GoldCheck("ambiguous", f"gold.solution_boxes_differ: solution boxes {listed}")
    if _equal(answer, distinct[0]):
        return GoldCheck("verified", "gold.matches_solution: equals the solution's boxed answer")
    detail = f"gold {_short(answer)}, solution boxes {_short(distinct[0])}"
    return GoldCheck("wrong", f"gold.disagrees_with_solution: {detail}")


def _solution_boxes(solution: str) -> list[str]:
    found = []
    for box in top_level_boxes(solution):
        content = _PHANTOM.sub("", box.content or "").strip()
        if content:
            found.append(content)
    return found


def _distinct(boxes: list[str]) -> list[str]:
    """The boxes with repeats (equal values in any spelling) removed, in order."""
    kept: list[str] = []
    for box in boxes:
        if not any(_equal(seen, box) for seen in kept):
            kept.append(box)
    return kept


def _equal(gold: str, other: str) -> bool:
    try:
        return compare(gold, other, algebra=True).equal
    except GoldError:
        return False


def _check_parses(shape: Shape) -> None:
    """Every value inside the gold can be read (words and plain numbers need no parser)."""
    from srpo.verify.math import symbolic

    for leaf in _leaves(shape):
        if text_key(leaf) is not None or parse_plain_number(leaf) is not None:
            continue
        for side in split_top_level(leaf, ("=",)):
            try:
                symbolic.parse_latex(side.strip())
            except symbolic.Unparseable as error:
                raise GoldError(str(error)) from error


def _leaves(shape: Shape) -> list[str]:
    if isinstance(shape, Scalar):
        return [shape.text]
    if isinstance(shape, Matrix):
        children = shape.entries
    elif isinstance(shape, Union):
        children = shape.parts
    elif isinstance(shape, Bracketed | BareList):
        children = shape.items
    else:  # pragma: no cover - every shape is handled above
        children = ()
    return [leaf for child in children for leaf in _leaves(child)]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
