"""Finding `\\boxed{...}` answers in LaTeX text, with balanced braces.

Covers: the last `\\boxed{…}` / `\\fbox{…}` (also `\\boxed 5`), all of them in order, and the
final top-level box of a model response (a box nested in another box is part of it).
Does not cover: deciding whether an answer is right (see `equivalence`).

Every function is linear in the length of the text: braces are matched in one pass, so a
response with thousands of unclosed boxes costs no more than one with a single box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*(\{|\s+(?=\S))")
_BARE_TOKEN = re.compile(r"[^\s$]+")


_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)  # \{ and \} are literal braces


def _matching_braces(text: str, start: int = 0) -> dict[int, int]:
    """Index of every `{` from `start` on that is closed -> index just past its `}`."""
    closes: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACE_TOKEN.finditer(text, start):
        char = match.group()
        if char == "{":
            stack.append(match.start())
        elif char == "}" and stack:
            closes[stack.pop()] = match.end()
    return closes


@dataclass(frozen=True, slots=True)
class Box:
    """One box: its content (None when its brace never closes) and where it starts and ends."""

    content: str | None
    start: int
    end: int  # just past the closing brace; len(text) when unbalanced


def _boxes(text: str) -> list[Box]:
    starts = list(_BOX_START.finditer(text))
    closes = _matching_braces(text, starts[0].start()) if starts else {}
    found: list[Box] = []
    for match in starts:
        if match.group(1) == "{":
            brace = match.start(1)
            end = closes.get(brace)
            content = text[brace + 1 : end - 1] if end else None
            found.append(Box(content, match.start(), end or len(text)))
        else:  # "\boxed 5": the next token up to whitespace or a dollar sign
            token = _BARE_TOKEN.match(text, match.end())
            content = token.group(0) if token else None
            found.append(Box(content, match.start(), token.end() if token else match.end()))
    return found


def boxed_contents(text: str) -> list[str | None]:
    """Every box in order (nested ones too); an unbalanced box yields None at its place."""
    return [box.content for box in _boxes(text)]


def last_boxed(text: str) -> str | None:
    """Content of the last complete box, stripped; None when there is none."""
    for box in reversed(_boxes(text)):
        if box.content is not None:
            return box.content.strip()
    return None


def top_level_boxes(text: str) -> list[Box]:
    """Boxes not inside another complete box, in order. An unclosed box has no inside."""
    outer: list[Box] = []
    covered_until = -1
    for box in _boxes(text):
        if box.start < covered_until:
            continue
        outer.append(box)
        if box.content is not None:
            covered_until = box.end
    return outer


def final_box(text: str) -> Box | None:
    """The last top-level box of a response (content None when it never closes), or None."""
    outer = top_level_boxes(text)
    return outer[-1] if outer else None
