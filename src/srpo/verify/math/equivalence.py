"""Is an extracted answer the gold answer? Shapes first, then words, numbers, equations, algebra.

`compare(gold, answer, algebra=False)` decides everything that needs no sympy (identical
spellings, word answers, plain numbers, the shape of lists / tuples / sets / intervals) and raises
`NeedsAlgebra` otherwise; the grader runs that cheap pass in the parent and sends only the rest
to worker processes, where `compare(..., algebra=True)` runs under a hard timeout.

Rules that differ from math-verify on purpose (each fixes a known false positive):
- an ordered tuple is not a set: `(1, 2)` never equals `(2, 1)`, `\\{2, 1\\}` or `2, 1`;
- an equation is not its last number: `2 + 3 = 10` is not `10`; every numeric side of an
  answer's equation chain must equal the gold (sides with variables are the unknowns asked for);
- a list of candidates is not a single answer: `3, 5`, `3 \\text{ or } 5`, `\\pm 3` fail a gold `3`.

Covers: orchestration of the comparison. Does not cover: extraction (`extract`), spelling
(`normalise`), the value comparisons themselves (`numbers`, `symbolic`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from srpo.verify.math.normalise import normalise_answer, text_key, unwrap_text
from srpo.verify.math.numbers import numbers_equal, parse_plain_number
from srpo.verify.math.structure import (
    BareList,
    Bracketed,
    Matrix,
    Scalar,
    Shape,
    TooComplex,
    Union,
    parse_shape,
    split_top_level,
)

MAX_ANSWER_CHARS = 1000
_BARE_NUMBER = re.compile(r"\s*-?\d{1,300}(?:\.\d{1,300})?\s*")


class NeedsAlgebra(Exception):
    """The cheap pass cannot decide: the pair needs sympy (in a worker process)."""


class GoldError(ValueError):
    """The gold answer itself cannot be read; the pair cannot be graded."""


@dataclass(frozen=True, slots=True)
class Verdict:
    equal: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Prepared:
    """An answer normalised and split into its shape."""

    text: str
    normalised: str
    shape: Shape


@lru_cache(maxsize=8192)
def prepare(text: str) -> Prepared:
    """Raises TooComplex for absurd nesting."""
    normalised = normalise_answer(text)
    return Prepared(text, normalised, parse_shape(normalised))


def prepare_gold(gold: str) -> Prepared:
    """The gold, or GoldError naming why it cannot be used."""
    if not gold or not gold.strip():
        raise GoldError("the gold answer is empty")
    try:
        prepared = prepare(gold)
    except TooComplex as error:
        raise GoldError(f"the gold answer is not readable: {error}") from error
    if not prepared.normalised:
        raise GoldError(f"the gold answer {gold!r} is empty once normalised")
    return prepared


def compare(gold: str, answer: str, *, algebra: bool) -> Verdict:
    """Compare an extracted answer with the gold. Raises GoldError, and NeedsAlgebra when
    `algebra` is False and sympy is needed."""
    if _BARE_NUMBER.fullmatch(gold) and _BARE_NUMBER.fullmatch(answer):
        equal = numbers_equal(parse_plain_number(gold), parse_plain_number(answer))  # type: ignore[arg-type]
        return Verdict(equal, "equal" if equal else "different number")  # most golds: no rewriting
    prepared_gold = prepare_gold(gold)
    if len(answer) > MAX_ANSWER_CHARS:
        return Verdict(False, f"answer longer than {MAX_ANSWER_CHARS} characters")
    try:
        prepared_answer = prepare(answer)
    except TooComplex as error:
        return Verdict(False, f"answer refused: {error}")
    if not prepared_answer.normalised:
        return Verdict(False, "answer is empty once normalised")
    judge = _Judge(algebra=algebra)
    equal = judge.shapes(prepared_gold.shape, prepared_answer.shape)
    return Verdict(equal, judge.reason or ("equal" if equal else "not equal"))


# ---------------------------------------------------------------------------------- shapes

_INTERVAL_BRACKETS = {"(", "[", ")", "]"}


def _is_interval(shape: Shape) -> bool:
    return (
        isinstance(shape, Bracketed)
        and len(shape.items) == 2
        and shape.left in _INTERVAL_BRACKETS
        and shape.right in _INTERVAL_BRACKETS
    )


class _Judge:
    """One comparison: remembers why it failed, and whether algebra may be used."""

    def __init__(self, *, algebra: bool) -> None:
        self.algebra = algebra
        self.reason: str | None = None

    def fail(self, reason: str) -> bool:
        self.reason = self.reason or reason
        return False

    def shapes(self, gold: Shape, answer: Shape) -> bool:
        if isinstance(gold, Scalar):
            return self._to_scalar(gold, answer)
        is_set_of_reals = isinstance(gold, Union) or _is_interval(gold)
        if is_set_of_reals and isinstance(answer, Scalar) and _RELATION.search(answer.text):
            return self._sets(_join(gold), answer.text)  # an inequality for an interval
        if isinstance(gold, Union):
            if not isinstance(answer, Union):
                return self.fail("expected a union of sets")
            return self._unordered(gold.parts, answer.parts)
        if isinstance(gold, Matrix):
            return self._to_matrix(gold, answer)
        if isinstance(gold, Bracketed):
            return self._to_bracketed(gold, answer)
        return self._to_bare_list(gold, answer)

    def _to_scalar(self, gold: Scalar, answer: Shape) -> bool:
        if isinstance(answer, Scalar):
            if _RELATION.search(gold.text) and not _RELATION.search(answer.text):
                return self._sets(gold.text, _join(answer))
            return self.scalar(gold.text, answer.text)
        items = _items(answer)
        if items is not None and len(items) == 1 and not _is_interval(answer):
            return self.shapes(gold, items[0])  # {5} for 5
        if _RELATION.search(gold.text) and (_is_interval(answer) or isinstance(answer, Union)):
            return self._sets(gold.text, _join(answer))
        return self.fail("several candidates where one value is expected")

    def _to_matrix(self, gold: Matrix, answer: Shape) -> bool:
        if isinstance(answer, Matrix):
            if [len(row) for row in gold.rows] != [len(row) for row in answer.rows]:
                return self.fail("matrix shapes differ")
            return self._ordered(gold.entries, answer.entries)
        if gold.is_vector and isinstance(answer, Bracketed) and not answer.is_set:
            return self._ordered(gold.entries, answer.items)  # a vector written as a tuple
        return self.fail("expected a matrix")

    def _to_bracketed(self, gold: Bracketed, answer: Shape) -> bool:
        if gold.is_set:
            items = _items(answer)
            if items is None or (isinstance(answer, Bracketed) and not answer.is_set):
                return self.fail("expected a set")
            return self._unordered(gold.items, items)
        if isinstance(answer, Matrix) and answer.is_vector:
            return self._ordered(gold.items, answer.entries)
        if isinstance(answer, Bracketed) and not answer.is_set:
            if _is_interval(gold) and (gold.left, gold.right) != (answer.left, answer.right):
                return self.fail("interval ends differ (open versus closed)")
            return self._ordered(gold.items, answer.items)
        if isinstance(answer, BareList) and (gold.left, gold.right) == ("(", ")"):
            return self._ordered(gold.items, answer.items)  # "1, 2" for the pair (1, 2)
        return self.fail("expected an ordered tuple")

    def _to_bare_list(self, gold: BareList, answer: Shape) -> bool:
        items = _items(answer)
        if items is None or (isinstance(answer, Bracketed) and not answer.is_set):
            return self.fail("expected a list of answers")
        return self._unordered(gold.items, items)

    def _ordered(self, gold: tuple[Shape, ...], answer: tuple[Shape, ...]) -> bool:
        if len(gold) != len(answer):
            return self.fail(f"expected {len(gold)} entries, got {len(answer)}")
        return all(self.shapes(g, a) for g, a in zip(gold, answer, strict=True))

    def _unordered(self, gold: tuple[Shape, ...], answer: tuple[Shape, ...]) -> bool:
        """Every gold item matched to a distinct answer item (a perfect matching)."""
        if len(gold) != len(answer):
            return self.fail(f"expected {len(gold)} answers, got {len(answer)}")
        matches: dict[int, int] = {}  # answer index -> gold index

        def assign(g: int, seen: set[int]) -> bool:
            for a in range(len(answer)):
                if a in seen or not self._quiet_equal(gold[g], answer[a]):
                    continue
                seen.add(a)
                if a not in matches or assign(matches[a], seen):
                    matches[a] = g
                    return True
            return False

        if all(assign(g, set()) for g in range(len(gold))):
            return True
        return self.fail("the answers do not match the gold's")

    def _quiet_equal(self, gold: Shape, answer: Shape) -> bool:
        reason = self.reason
        equal = self.shapes(gold, answer)
        self.reason = reason  # a failed pairing is not the verdict's reason
        return equal

    # ------------------------------------------------------------------------------ scalars

    def scalar(self, gold: str, answer: str) -> bool:
        if _squash(gold) == _squash(answer):
            return True
        words = text_key(gold)
        if words is not None:
            return words == _choice_key(answer) or self.fail("different word answer")
        if _BASE_NUMERAL.fullmatch(_squash(gold)) or _BASE_NUMERAL.fullmatch(_squash(answer)):
            return self.fail("different numeral or base")  # 28_9 is neither 28 nor 28_{10}
        gold_sides, answer_sides = _equation_sides(gold), _equation_sides(answer)
        if len(gold_sides) > 1 or len(answer_sides) > 1:
            return self._equations(gold_sides, answer_sides)
        gold_number, answer_number = parse_plain_number(gold), parse_plain_number(answer)
        if gold_number is not None and answer_number is not None:
            return numbers_equal(gold_number, answer_number) or self.fail("different number")
        return self._algebra("values_equal", gold, answer)

    def _equations(self, gold: list[str], answer: list[str]) -> bool:
        if len(gold) == 1:  # "x = 5", "\frac{10}{2} = 5" for 5; not "2 + 3 = 10" for 10
            return self._chain(gold[0], answer)
        if _is_name(gold[0]):
            if len(answer) == 1:
                return self.scalar(gold[-1], answer[0])
            if _is_name(answer[0]):
                if _name_key(gold[0]) != _name_key(answer[0]):
                    return self.fail("assigns a different variable")
                return self._chain(gold[-1], answer)
        if len(answer) == 1:
            return self.fail("expected an equation")
        return self._algebra("equations_equal", (gold[0], gold[-1]), (answer[0], answer[-1]))

    def _chain(self, value: str, sides: list[str]) -> bool:
        """An answer `a = b = c` for one value: every side without a variable must equal it
        (a leading name such as `x` or `f(2)` is what is asked for), and so must the last."""
        sides = sides[1:] if len(sides) > 1 and _is_name(sides[0]) else sides
        checked = [side for side in sides[:-1] if not _has_variable(side)] + [sides[-1]]
        return all(self.scalar(value, side) for side in checked)

    def _sets(self, gold: str, answer: str) -> bool:
        return self._algebra("sets_equal", gold, answer)

    def _algebra(self, name: str, gold, answer) -> bool:
        if not self.algebra:
            raise NeedsAlgebra(name)
        from srpo.verify.math import symbolic

        gold_texts = gold if isinstance(gold, tuple) else (gold,)
        try:
            for text in gold_texts:
                symbolic.parse_latex(text)
        except symbolic.Unparseable as error:
            raise GoldError(f"the gold answer is not parseable: {error}") from error
        try:
            equal = getattr(symbolic, name)(gold, answer)
        except symbolic.Unparseable:
            return self.fail("answer is not parseable")
        except symbolic.TooLarge as error:
            return self.fail(f"answer refused: {error}")
        except (RecursionError, MemoryError, OverflowError):
            return self.fail("answer too complex to evaluate")
        return equal or self.fail("not equal")


# ----------------------------------------------------------------------------------- helpers

_RELATION = re.compile(r"<|>|\\le(?:q|qslant)?(?![a-zA-Z])|\\ge(?:q|qslant)?(?![a-zA-Z])|\\[lg]t(?![a-zA-Z])")
_BASE_NUMERAL = re.compile(r"[0-9A-Za-z]+_\{?\d+\}?")
_NAME = re.compile(r"\s*(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[\w,]+\}?|')?(?:\s*\([^()=]*\))?\s*")
_COMMAND = re.compile(r"\\[a-zA-Z]+")


@lru_cache(maxsize=8192)
def _squash(text: str) -> str:
    return re.sub(r"\s+|\{\}", "", text).replace("{", "").replace("}", "")


def _items(shape: Shape) -> tuple[Shape, ...] | None:
    if isinstance(shape, BareList):
        return shape.items
    if isinstance(shape, Bracketed):
        return shape.items
    if isinstance(shape, Scalar):
        return (shape,)
    return None


def _join(shape: Shape) -> str:
    if isinstance(shape, Scalar):
        return shape.text
    if isinstance(shape, Union):
        return " \\cup ".join(_join(part) for part in shape.parts)
    if isinstance(shape, Bracketed):
        return shape.left + ", ".join(_join(item) for item in shape.items) + shape.right
    if isinstance(shape, BareList):
        return ", ".join(_join(item) for item in shape.items)
    return ""


def _choice_key(answer: str) -> str | None:
    key = text_key(answer)
    if key is None:
        bare = unwrap_text(answer).strip().strip("()[]. ")
        key = bare.lower() if re.fullmatch(r"[A-Za-z]", bare) else None
    return key


def _equation_sides(text: str) -> list[str]:
    """`a = b = c` -> [a, b, c]; `\\le`, `<=`, `\\ne` are not equations."""
    if "=" not in text:
        return [text]
    sides = split_top_level(text, ("=",))
    if any(side.endswith(("<", ">", "!", "\\")) for side in sides[:-1]):
        return [text]
    return [side.strip() for side in sides] if all(s.strip() for s in sides) else [text]


def _is_name(text: str) -> bool:
    """`x`, `y_1`, `f(x)`, `\\theta`, `a+b`? No: only a single named quantity."""
    return bool(_NAME.fullmatch(text)) and not parse_plain_number(text.strip())


def _name_key(text: str) -> str:
    return _squash(text).lower()


def _has_variable(text: str) -> bool:
    """A side with a letter outside LaTeX commands holds an unknown (e is Euler's number)."""
    return bool(re.search(r"[a-df-zA-Z]", _COMMAND.sub("", unwrap_text(text))))
