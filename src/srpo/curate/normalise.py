"""The text normaliser stage: formatting noise out, the maths left intact.

Math questions lose URLs, image links, HTML tags and entities, leading labels ("Problem 3.",
"Question:"), layout-only LaTeX (`\\noindent`, `\\vspace{…}`), markdown emphasis and redundant
whitespace. Code statements are treated more carefully, because their whitespace can matter:
URLs, image links, HTML and entities go, trailing spaces and runs of blank lines are trimmed,
fenced code blocks are never touched, and completion-style prompts (HumanEval, where the
question *is* code) are left exactly as they are.

Each problem records what changed in `metadata["normalised"]` and, when its text changed, the
original in `metadata["question_raw"]`, so `srpo-curate clean` can start again from it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from srpo.catalog.records import Problem

_URL = re.compile(r"(?:https?://|www\.)[^\s)\]}>\"'$]+")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_HTML_TAGS = ("p|br|div|span|b|i|u|em|strong|sup|sub|img|a|ul|ol|li|table|tr|td|th|tbody|thead|pre|code|"
              "h[1-6]|hr|center|font|blockquote|tt|small|big|strike|s|del|ins|nobr|wbr")  # fmt: skip
_HTML_TAG = re.compile(rf"</?(?:{_HTML_TAGS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_BREAK_TAG = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,6}|#x[0-9a-fA-F]{1,6});")
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:problem|question|exercise|example|task|q)\s*(?:#?\s*\d+[a-z]?)?\s*[.:)]\s*(?:\*\*)?\s*",
    re.IGNORECASE,
)
_LATEX_LAYOUT = re.compile(
    r"\\(?:noindent|medskip|bigskip|smallskip|centering|par(?![a-z])|newline)|\\[vh]space\*?\{[^{}]*\}"
)
_MD_EMPHASIS = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_INLINE_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_FENCE = re.compile(r"(```.*?```)", re.DOTALL)

Rewrite = tuple[str, Callable[[str], str]]


def _drop(pattern: re.Pattern[str], replacement: str = "") -> Callable[[str], str]:
    return lambda text: pattern.sub(replacement, text)


def _unescape_entities(text: str) -> str:
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def _strip_html(text: str) -> str:
    return _HTML_TAG.sub("", _BREAK_TAG.sub("\n", text))


def _unemphasise(text: str) -> str:
    return _MD_HEADING.sub("", _MD_EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text))


def _tidy_math_whitespace(text: str) -> str:
    lines = [_INLINE_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines))


def _tidy_code_whitespace(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines))


MATH_REWRITES: tuple[Rewrite, ...] = (
    ("images", _drop(_MD_IMAGE)),
    ("urls", _drop(_URL)),
    ("html", _strip_html),
    ("entities", _unescape_entities),
    ("label", _drop(_LABEL)),
    ("latex_layout", _drop(_LATEX_LAYOUT, " ")),
    ("markdown", _unemphasise),
    ("whitespace", _tidy_math_whitespace),
)

CODE_REWRITES: tuple[Rewrite, ...] = (
    ("images", _drop(_MD_IMAGE)),
    ("urls", _drop(_URL)),
    ("html", _strip_html),
    ("entities", _unescape_entities),
    ("whitespace", _tidy_code_whitespace),
)


def _outside_fences(text: str, rewrite: Callable[[str], str]) -> str:
    """Apply `rewrite` to the prose between ``` fences only."""
    if "```" not in text:
        return rewrite(text)
    parts = _FENCE.split(text)
    return "".join(part if part.startswith("```") else rewrite(part) for part in parts)


def normalise_text(text: str, rewrites: Sequence[Rewrite]) -> tuple[str, list[str]]:
    """The rewritten text and the names of the rewrites that changed it."""
    changed = []
    for name, rewrite in rewrites:
        rewritten = _outside_fences(text, rewrite)
        if rewritten != text:
            changed.append(name)
            text = rewritten
    stripped = text.strip()
    if stripped != text and "whitespace" not in changed:
        changed.append("whitespace")
    return stripped, changed


@dataclass(frozen=True, slots=True)
class Normalise:
    """Strips formatting noise from questions; records what it changed."""

    name: str = "normalise"

    def apply(self, problems: Sequence[Problem]) -> None:
        for problem in problems:
            if problem.metadata.get("completion_style"):
                continue  # the question is code to be completed: every character counts
            rewrites = MATH_REWRITES if problem.domain == "math" else CODE_REWRITES
            text, changed = normalise_text(problem.question, rewrites)
            if changed:
                problem.metadata.setdefault("question_raw", problem.question)
                problem.metadata["normalised"] = changed
                problem.question = text
