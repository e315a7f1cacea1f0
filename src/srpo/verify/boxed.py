"""Finding `\\boxed{...}` answers in LaTeX text, with balanced braces.

Covers: the last `\\boxed{…}` / `\\fbox{…}` (also `\\boxed 5`), all of them in order.
Does not cover: deciding whether an answer is right (see the grader).
"""

from __future__ import annotations

import re

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*(\{|\s+(?=\S))")


def _balanced(text: str, open_at: int) -> int | None:
    """Index just past the brace that closes the one at `open_at`, or None if unbalanced."""
    depth = 0
    index = open_at
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2  # an escaped brace \{ or \} does not count
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def boxed_contents(text: str) -> list[str | None]:
    """Every box in order; an unbalanced box yields None at its place."""
    found: list[str | None] = []
    for match in _BOX_START.finditer(text):
        if match.group(1) == "{":
            end = _balanced(text, match.start(1))
            found.append(text[match.start(1) + 1 : end - 1] if end else None)
        else:  # "\boxed 5": the next token up to whitespace or a dollar sign
            token = re.match(r"[^\s$]+", text[match.end() :])
            found.append(token.group(0) if token else None)
    return found


def last_boxed(text: str) -> str | None:
    """Content of the last complete box, stripped; None when there is none."""
    for content in reversed(boxed_contents(text)):
        if content is not None:
            return content.strip()
    return None
