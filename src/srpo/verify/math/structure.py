"""The shape of a normalised answer: one value, a tuple, a set, a bare list, a union, a matrix.

Shapes are read from the string, before any parsing into sympy, because the parser's guesses are
where graders go wrong: `(1, 2)` becomes an open interval, `1, 2` and `(2, 1)` both become sets,
so an ordered pair compares equal to its reverse. Here brackets decide:

- `\\{a, b\\}` is a set and a bare `a, b` a list of answers: order does not matter;
- `(a, b)`, `[a, b]`, `(a, b]`, `\\langle a, b \\rangle` are ordered; with two entries they may be
  intervals, so their brackets must match exactly;
- `A \\cup B` is a union of parts in any order; a matrix is rows of entries;
- `a \\pm b` is the two values `a + b`, `a - b`.

Covers: splitting at the top level (respecting every kind of bracket and environment).
Does not cover: comparing shapes (see `equivalence`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_NESTING = 12

_OPENERS = ("\\{", "\\langle", "(", "[", "{")
_CLOSERS = ("\\}", "\\rangle", ")", "]", "}")
_MATRIX = re.compile(r"^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Scalar:
    text: str


@dataclass(frozen=True, slots=True)
class Bracketed:
    """Entries between brackets: `left` is ( [ \\{ or \\langle, `right` ) ] \\} or \\rangle."""

    left: str
    right: str
    items: tuple[Shape, ...]

    @property
    def is_set(self) -> bool:
        return self.left == "\\{"


@dataclass(frozen=True, slots=True)
class BareList:
    """`a, b, c` with no brackets: several answers, order free."""

    items: tuple[Shape, ...]


@dataclass(frozen=True, slots=True)
class Union:
    parts: tuple[Shape, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    rows: tuple[tuple[Shape, ...], ...]

    @property
    def entries(self) -> tuple[Shape, ...]:
        return tuple(entry for row in self.rows for entry in row)

    @property
    def is_vector(self) -> bool:
        return len(self.rows) == 1 or all(len(row) == 1 for row in self.rows)


Shape = Scalar | Bracketed | BareList | Union | Matrix


class TooComplex(ValueError):
    """Nesting deeper than any real answer: refused before a parser can blow up on it."""


_BRACKET_TOKENS = (
    r"\\(?:begin|end)\{[a-zA-Z*]+\}"  # environments nest like brackets
    r"|\\\\"  # a matrix row break, not an escaped bracket
    r"|\\[{}]|\\[lr]angle(?![a-zA-Z])|[()\[\]{}]"
)


@lru_cache(maxsize=32)
def _scanner(separators: tuple[str, ...]) -> re.Pattern[str]:
    escaped = "".join(f"|{re.escape(s)}" for s in separators)
    return re.compile(_BRACKET_TOKENS + escaped)


def _opens(token: str) -> bool:
    return token in ("(", "[", "{", "\\{", "\\langle") or token.startswith("\\begin")


def _closes(token: str) -> bool:
    return token in (")", "]", "}", "\\}", "\\rangle") or token.startswith("\\end")


def split_top_level(text: str, separators: tuple[str, ...]) -> list[str]:
    """Split at separators that sit outside every bracket and environment.

    Raises TooComplex when brackets nest deeper than MAX_NESTING.
    """
    parts: list[str] = []
    depth = 0
    start = 0
    for match in _scanner(separators).finditer(text):
        token = match.group()
        if token in separators and depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
        elif _opens(token):
            depth += 1
            if depth > MAX_NESTING:
                raise TooComplex(f"brackets nest deeper than {MAX_NESTING}")
        elif _closes(token):
            depth -= 1
    parts.append(text[start:])
    return parts


def _outer_brackets(text: str) -> tuple[str, str, str] | None:
    """(left, inner, right) when one bracket pair encloses the whole text, else None."""
    left = next((o for o in _OPENERS[:-1] if text.startswith(o)), None)  # a bare { only groups
    right = next((c for c in _CLOSERS[:-1] if text.endswith(c)), None)
    if left is None or right is None or len(text) < len(left) + len(right):
        return None
    if left == "\\langle" and text[len(left) : len(left) + 1].isalpha():
        return None  # \langlex is not \langle
    inner = text[len(left) : len(text) - len(right)]
    return (left, inner, right) if _balanced_inside(inner) else None


def _balanced_inside(inner: str) -> bool:
    """True when no bracket of `inner` closes below depth 0 (the outer pair really is a pair)."""
    depth = 0
    for match in _scanner(()).finditer(inner):
        token = match.group()
        if _opens(token):
            depth += 1
        elif _closes(token):
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def parse_shape(text: str) -> Shape:
    """The shape of a normalised answer. Raises TooComplex for absurd nesting."""
    text = text.strip()
    parts = split_top_level(text, ("\\cup",))
    if len(parts) > 1:
        return Union(tuple(parse_shape(part) for part in parts))
    matrix = _MATRIX.match(text)
    if matrix and matrix.group(1) != "vmatrix":
        rows = [row for row in split_top_level(matrix.group(2), ("\\\\",)) if row.strip()]
        return Matrix(
            tuple(tuple(parse_shape(cell) for cell in split_top_level(row, ("&",))) for row in rows)
        )
    outer = _outer_brackets(text)
    if outer:
        left, inner, right = outer
        items = [item for item in split_top_level(inner, (",", ";")) if item.strip()]
        if len(items) > 1 or left == "\\{":
            return Bracketed(left, right, tuple(parse_shape(item) for item in items))
        if left in "([" and right in ")]" and (left, right) in (("(", ")"), ("[", "]")):
            return parse_shape(inner)  # (x) is just x
    items = [item for item in split_top_level(text, (",", ";")) if item.strip()]
    if len(items) > 1:
        return BareList(tuple(parse_shape(item) for item in items))
    return _plus_minus(text)


def _plus_minus(text: str) -> Shape:
    """`a \\pm b` is two answers; every ± takes the same sign (∓ the other)."""
    if "\\pm" not in text and "\\mp" not in text:
        return Scalar(text)
    plus = text.replace("\\pm", "+").replace("\\mp", "-")
    minus = text.replace("\\pm", "-").replace("\\mp", "+")
    return BareList((Scalar(plus), Scalar(minus)))
