"""Taking the final answer out of a model response.

The rule is deliberately narrow, because every extra heuristic is a way to be rewarded for text
that never committed to an answer: the last top-level `\\boxed{…}` / `\\fbox{…}`, else the last
explicit "final answer: …" / "the answer is …" phrase, else nothing. A box whose brace never
closes, or an empty box, is a failed answer rather than a reason to look elsewhere.

Covers: locating and cutting the answer text. Does not cover: normalising or comparing it
(see `normalise` and `equivalence`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from srpo.verify.math.boxed import final_box

ExtractionSource = Literal["boxed", "phrase", "none"]

_PHRASE = re.compile(
    r"(?:\bfinal\s+answer\s*(?:is|:|=)|\bthe\s+answer\s+is\s*:?)\s*",
    re.IGNORECASE,
)
# Math delimiters that may wrap the phrase's answer: $…$, $$…$$, \(…\), \[…\].
_DELIMITED = re.compile(
    r"\$\$(.+?)\$\$|\$((?:\\.|[^\\$])+)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL
)  # inside $…$ an escaped \$ (a dollar sign) does not end the math
# Plain-text answer: up to the end of the line or of the sentence (a period not inside a number).
_SENTENCE_END = re.compile(r"\n|\.(?=\s|$)|(?<=\S)[!?](?=\s|$)")


@dataclass(frozen=True, slots=True)
class Extraction:
    """What a response commits to: `text` is None when there is no usable answer.

    `problem` says why an answer that was found is unusable ("empty box", "unclosed box").
    """

    text: str | None
    source: ExtractionSource
    problem: str | None = None


def extract_answer(response: str) -> Extraction:
    box = final_box(response)
    if box is not None:
        if box.content is None:
            return Extraction(None, "boxed", "unclosed box: its brace never closes")
        content = box.content.strip()
        if not content:
            return Extraction(None, "boxed", "empty box")
        return Extraction(content, "boxed")
    phrase = _last_phrase_answer(response)
    if phrase is None:
        return Extraction(None, "none")
    if not phrase:
        return Extraction(None, "phrase", "empty answer after the final-answer phrase")
    return Extraction(phrase, "phrase")


def _last_phrase_answer(response: str) -> str | None:
    last = None
    for last in _PHRASE.finditer(response):  # noqa: B007 - we want the last match
        pass
    if last is None:
        return None
    rest = response[last.end() :]
    delimited = _DELIMITED.match(rest)
    if delimited:
        inner = next(group for group in delimited.groups() if group is not None)
        return inner.strip().rstrip(".").strip()
    end = _SENTENCE_END.search(rest)
    text = rest[: end.start()] if end else rest
    return text.strip().strip("*").strip()  # markdown bold around the answer
