"""Finding sub-questions: enumerated parts that each ask for something (`math.multi_part`).

A question has several parts when a run of markers of one style, numbered 1, 2, 3 ... in
order, each introduces something to find. The styles: `(1)` `(a)` `(i)` `(I)` `（Ⅱ）` `$(2)$`
`\\((2)\\)`; circled ①②; `1.` `a.` `i.` `I.` `1)` `a)` `1.)` at the start of a line (after an
optional bullet); `a)` `1)` `ii)` inside a line after `:` `;` `?` ("Find: a) the mean; b) the
variance"); and two or more "Part A" / "Part (b)" / "Part II" / "Question 2" headings.

A part asks when it holds a question mark, an imperative (find, compute, ...) or a blank to fill
(`___`, `\\_\\_\\_`). Every part asks when the text before the first marker is an instruction
they share: "Calculate:", "Solve the following equations:", "Find x for the following
expressions.", "How many outcomes are there for the following results?".

Enumerations that are not parts: conditions, properties, rules, clues, steps or statements that
one ask combines (a lead-in naming them, "satisfying", "such that", does not hand down its
ask), and any list followed by the one real question in a paragraph of its own ("each of these
three questions: a) ...? b) ...? c) ...?  How many answer combinations are possible?").
Not caught: parts that are not enumerated ("Find x. Then find y."), and a complete question
followed by enumerated cases without "the following" ("How many arrangements are there?
(I) the girls stand together; (II) ...").
"""

from __future__ import annotations

import re

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8}
_TOKEN = r"[1-9]|[a-e]|i{1,3}|iv|vi{0,3}|I{1,3}|IV|VI{0,3}"
_PAREN_MARKER = rf"\(\s*(?P<paren>{_TOKEN})\s*\)"
_CIRCLED = r"(?P<circled>[①②③④⑤⑥⑦⑧⑨])"
_BULLET = r"(?:[-*•·]\s*|\$\\bullet\$\s*)?"
_LINE_MARKER = rf"^[ \t]*{_BULLET}(?P<line>[1-9]|[a-e]|i{{1,3}}|iv|I{{1,3}}|IV)\s*(?:\.\)|[.)])(?=\s)"
# Inside a line only `a)` / `2)` after `:`, `;`, `?`, `!` or `$` and before a word: "(x - 1) + 2",
# "(0, 1) and" and "(3.1) or" hold no marker.
_INLINE_MARKER = r"(?:(?<=[:;?!$])|(?<=[:;?!$]\s))(?P<inline>[1-9]|[a-e]|i{1,3}|iv)\)(?=\s+[A-Za-z$\\(])"
_MARKER = re.compile(
    rf"(?:(?<=^)|(?<=[\s.;:,?!]))(?:{_PAREN_MARKER}|{_CIRCLED})|{_LINE_MARKER}|{_INLINE_MARKER}", re.MULTILINE
)
_PART_HEADING = re.compile(
    r"\b(?:part|question)(?:\s+\(?|\s*\()(?:[1-9]|[a-e]|i{1,3}|iv|one|two|three)\)?\s*(?:[:.)\-–—]|\n)",
    re.IGNORECASE,
)

# An ask is a question mark or an imperative; "which" / "how" alone are often relative words.
_ASK = re.compile(
    r"\?|\b(?:find|determine|compute|calculate|evaluate|solve|prove|show|express|write|simplify|fill|complete|"
    r"list|sketch|draw|explain|give|state|identify|estimate|factor|expand|derive|obtain|discuss|"
    r"judge|verify|describe|graph|plot)\b",
    re.IGNORECASE,
)
# The question a list of data leads to: a question mark or an ask for a result (not "Express
# your answer as a fraction", which closes real multi-part questions too).
_CLOSING_ASK = re.compile(
    r"\?|\b(?:find|determine|compute|calculate|evaluate|how\s+many|how\s+much|what\s+is)\b", re.IGNORECASE
)
_BLANK = re.compile(r"_{3,}|(?:\\_){3,}|\\underline\{\s*(?:\\quad|\\qquad|\s)*\}")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH_END = re.compile(r"\n[ \t]*\n")
_UNIFORM = str.maketrans(
    {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V", "Ⅵ": "VI", "（": "(", "）": ")"}
)
# Lists that one ask combines, named by the lead-in: their ask is not handed down to the items.
_COMBINED = (
    r"conditions?|satisf\w*|such\s+that|propert(?:y|ies)|statements?|propositions?|rules?|clues?|steps?"
    r"|facts?|options?|choices?|program"
)
# A colon-ended instruction that every part inherits ("Calculate:", "Find the values of:").
_LEAD_IN = re.compile(
    r"(?:^|[.?!\n])\s*(?:calculate|compute|evaluate|simplify|solve|fill\s+in|find|determine|answer)\b"
    rf"(?![^.?!\n]*\b(?:{_COMBINED})\b)[^.?!\n:]{{0,80}}:\s*$",
    re.IGNORECASE,
)
# An ask about "the following <things>" right before the list: "Find x for the following
# expressions.", "How many outcomes are there for the following results?".
_FOLLOWING_LEAD_IN = re.compile(
    r"\b(?:find|determine|compute|calculate|evaluate|simplify|solve|how\s+many|how\s+much|what)\b"
    rf"(?![^?!\n]*\b(?:{_COMBINED})\b)[^?!\n]{{0,120}}?\bthe\s+following\s+(?:\w+\s+)?\w+s\s*[.?:]"
    r"\s*(?:\([^()\n]{0,40}\))?\s*$",
    re.IGNORECASE,
)
_TEX_WRAPPED_MARKER = re.compile(r"\\{1,2}\(\s*(\([^()]{1,4}\))\s*\\{1,2}\)")
_DOLLAR_MARKER = re.compile(r"\$\s*(\([^()$]{1,4}\))\s*(\$?)")


def _ordinal(match: re.Match[str]) -> tuple[str, int]:
    """(style, position) of a part marker: ('paren-digit', 2) for (2), ('bare-roman-lower', 2) for ii)."""
    if match.group("circled"):
        return "circled", "①②③④⑤⑥⑦⑧⑨".index(match.group("circled")) + 1
    token = match.group("paren") or match.group("line") or match.group("inline")
    style = "paren" if match.group("paren") else "bare"  # a line-start `b)` continues an inline `a)`
    if token.isdigit():
        return f"{style}-digit", int(token)
    if token.lower() in _ROMAN:
        return f"{style}-roman-{'upper' if token.isupper() else 'lower'}", _ROMAN[token.lower()]
    return f"{style}-letter", ord(token) - ord("a") + 1


def marker_view(text: str) -> str:
    """The text with part markers made plain: `$(1)$`, `\\((1)\\)`, `（Ⅱ）` and `<br/>` separators."""
    text = _BREAK.sub("\n", text.translate(_UNIFORM))  # (Ⅱ) -> (II); NFKC would also flatten ②
    text = _TEX_WRAPPED_MARKER.sub(r" \1 ", text)
    return _DOLLAR_MARKER.sub(lambda m: f" {m.group(1)} " + ("" if m.group(2) else "$"), text)


def _asks(segment: str) -> bool:
    return bool(_ASK.search(segment) or _BLANK.search(segment))


def _last_part_end(text: str, last: re.Match[str]) -> int:
    """The last part runs to the end of its paragraph; what follows is not part of it."""
    paragraph = _PARAGRAPH_END.search(text, last.end())
    return paragraph.start() if paragraph else len(text)


def _led(before: str) -> bool:
    return bool(_LEAD_IN.search(before) or _FOLLOWING_LEAD_IN.search(before))


def _runs(text: str) -> dict[str, list[re.Match[str]]]:
    """For each marker style, its markers numbered 1, 2, 3 ... in order (others are skipped)."""
    runs: dict[str, list[re.Match[str]]] = {}
    for match in _MARKER.finditer(text):
        style, position = _ordinal(match)
        if position == len(runs.get(style, ())) + 1:
            runs.setdefault(style, []).append(match)
    return runs


def asking_parts(text: str) -> dict[str, list[bool]]:
    """For each marker style, whether its 1st, 2nd, ... part asks something.

    Every part asks when the text before the first marker is an instruction they share; no part
    does when the list is followed by a question of its own (the list was data for it).
    """
    found: dict[str, list[bool]] = {}
    for style, run in _runs(text).items():
        end = _last_part_end(text, run[-1])
        if _CLOSING_ASK.search(text[end:]):
            found[style] = [False] * len(run)
            continue
        led = _led(text[: run[0].start()])
        bounds = [m.start() for m in run[1:]] + [end]
        found[style] = [led or _asks(text[m.end() : stop]) for m, stop in zip(run, bounds, strict=True)]
    return found


def has_parts(question: str) -> bool:
    """Two or more enumerated parts that each ask for something, or two part headings."""
    if len(_PART_HEADING.findall(question)) >= 2:
        return True
    return any(len(asks) >= 2 and sum(asks) >= 2 for asks in asking_parts(marker_view(question)).values())
