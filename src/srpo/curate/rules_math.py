"""Math filters, after PRIME's cleaning: reject what a rule-based reward cannot grade fairly.

Each rule reads the raw question (and the gold answer) and says whether its reason applies:
- `math.multi_part`: two or more enumerated parts that each ask for something.
- `math.proof`: an imperative to prove / show that / demonstrate that / justify.
- `math.needs_image`: `[asy]` drawings, image links, or a reference to a figure shown.
- `math.needs_table`: a tabular / markdown table, `\\hline` rows, or a reference to "the table".
- `math.unverifiable_answer`: a gold that is prose, a proof, or "see solution".
- `math.multiple_choice`: (A)…(C) answer choices, or a gold that is a choice letter.

The patterns are written so ordinary words do not fire: "figure out", "table tennis", "round
table", "show your work", "f(1) and f(2)" and enumerated *statements* are not reasons.
What they do not catch: parts that are not enumerated ("Find x. Then find y."), figures
referred to without a cue word, tables written as prose.
"""

from __future__ import annotations

import re

_PAREN_MARKER = r"\(\s*(?P<paren>[1-9]|i{1,3}|iv|vi{0,3}|I{1,3}|IV|VI{0,3}|[a-e])\s*\)"
_LINE_MARKER = r"^[ \t]*(?P<line>[1-9]|[a-e]|I{1,3}|IV)\s*[.)](?=\s)"
_CIRCLED = r"(?P<circled>[①②③④⑤⑥⑦⑧⑨])"
_MARKER = re.compile(
    rf"(?:(?<=^)|(?<=[\s.;:,?!]))(?:{_PAREN_MARKER}|{_CIRCLED})|{_LINE_MARKER}", re.MULTILINE
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8}
# An ask is a question mark or an imperative; "which" / "how" alone are often relative words.
_ASK = re.compile(
    r"\?|\b(?:find|determine|compute|calculate|evaluate|solve|prove|show|express|write|simplify|"
    r"list|sketch|draw|explain|give|state|identify|estimate|factor|expand|derive|obtain|discuss|"
    r"judge|verify|describe|graph|plot)\b",
    re.IGNORECASE,
)
_PART_WORD = re.compile(r"\bpart\s*\(?(?:[1-9]|[a-e]|i{1,3}|I{1,3})\)?\s*[:.)]", re.IGNORECASE)

_PROOF = re.compile(
    r"(?<!\bwe\s)(?<!\bcan\s)(?<!\bto\s)\b(?:prove|disprove)\b(?!\s+(?:useful|helpful))"
    r"|(?<!\bwe\s)\bshow\s+(?:that|why)\b|\bdemonstrate\s+that\b|\bverify\s+that\b|\bjustify\b"
    r"|\bgive\s+a\s+proof\b",
    re.IGNORECASE,
)

_IMAGE_MARKUP = re.compile(
    r"\[asy\]|!\[[^\]]*\]\(|<img\b|<image>|\\includegraphics|\.(?:png|jpe?g|gif|svg)\b", re.IGNORECASE
)
_FIGURE = r"(?:figure|diagram|picture|drawing|illustration|sketch|graph|image)s?"
_FIGURE_REF = re.compile(
    rf"\b(?:in|from|on|see|using|use|consider|at)\s+(?:the|this)\s+"
    rf"(?:following\s+|given\s+|accompanying\s+|adjoining\s+|adjacent\s+|above\s+|below\s+|shown\s+)?"
    rf"{_FIGURE}\b(?!\s+(?:skat|of\b))"
    rf"|\b{_FIGURE}\s+(?:below|above|shown|at\s+(?:the\s+)?(?:right|left)|to\s+the\s+(?:right|left))\b"
    r"|\b(?:shown|pictured|depicted|illustrated|drawn)\s+(?:below|above|here|at\s+(?:the\s+)?(?:right|left))\b"
    r"|\bas\s+(?:shown|pictured|depicted|illustrated)\b"
    r"|\b(?:the|this|following)\s+(?:figure|diagram)s?\b(?!\s+(?:skat|out))",
    re.IGNORECASE,
)

_TABLE_MARKUP = re.compile(
    r"\\begin\{tabular\}|\\hline|^\s*\|.*\|\s*\n\s*\|?\s*:?-{3,}", re.IGNORECASE | re.MULTILINE
)
_TABLE_REF = re.compile(
    r"\b(?:in|from|of|on|using|use|according\s+to|based\s+on|see|complete|consider|by)\s+(?:the|this)\s+"
    r"(?:following\s+|given\s+|accompanying\s+|above\s+|below\s+|frequency\s+|data\s+)?tables?\b"
    r"(?!\s+tennis)"
    r"|\btables?\s+(?:below|above|shows?|shown|gives|lists|displays|summari[sz]es)\b"
    r"|\bthe\s+following\s+tables?\b|\bstem[\s-]+and[\s-]+leaf\b",
    re.IGNORECASE,
)

_PROSE_ANSWER = re.compile(
    r"\b(?:proof|prove[sd]?|see\s+(?:the\s+)?(?:solution|explanation)|answers?\s+(?:may|will)\s+vary|"
    r"not\s+unique|explanation)\b",
    re.IGNORECASE,
)
_LATEX_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mbox|textit|operatorname)\s*\{([^{}]*)\}")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")
_WORD = re.compile(r"[A-Za-z]{2,}")

_CHOICE_PAREN = re.compile(r"\(\s*([A-E])\s*\)")
_CHOICE_LINE = re.compile(r"^\s*\(?([A-E])[.:)]\s", re.MULTILINE)
_LETTER_ANSWER = re.compile(
    r"\s*(?:\\(?:text|textbf|mathrm)\s*\{)?\s*\(?\s*[A-E]\s*\)?(?:\s*[,;]?\s*\(?\s*[A-E]\s*\)?)*\s*\}?\s*"
)


def _ordinal(match: re.Match[str]) -> tuple[str, int]:
    """(style, position) of a part marker: ('paren-digit', 2) for (2), ('paren-roman', 2) for (ii)."""
    if match.group("circled"):
        return "circled", "①②③④⑤⑥⑦⑧⑨".index(match.group("circled")) + 1
    token = match.group("paren") or match.group("line")
    style = "paren" if match.group("paren") else "line"
    if token.isdigit():
        return f"{style}-digit", int(token)
    if token.lower() in _ROMAN:
        return f"{style}-roman-{'upper' if token.isupper() else 'lower'}", _ROMAN[token.lower()]
    return f"{style}-letter", ord(token) - ord("a") + 1


def _segment_end(text: str, last: re.Match[str]) -> int:
    """The last part ends with its line when it starts a line: a closing question is not in it."""
    starts_line = last.start() == 0 or text[: last.start()].rstrip(" \t").endswith("\n")
    newline = text.find("\n", last.end())
    return newline if starts_line and newline != -1 else len(text)


def _asking_segments(text: str) -> dict[str, list[bool]]:
    """For each marker style, whether the segment after its 1st, 2nd, ... marker asks something."""
    matches = list(_MARKER.finditer(text))
    found: dict[str, list[bool]] = {}
    for number, match in enumerate(matches):
        style, position = _ordinal(match)
        sequence = found.setdefault(style, [])
        if position != len(sequence) + 1:
            continue  # only a run 1, 2, 3 ... in order counts
        end = matches[number + 1].start() if number + 1 < len(matches) else _segment_end(text, match)
        sequence.append(bool(_ASK.search(text[match.end() : end])))
    return found


def is_multi_part(question: str) -> bool:
    if len(_PART_WORD.findall(question)) >= 2:
        return True
    return any(len(asks) >= 2 and sum(asks) >= 2 for asks in _asking_segments(question).values())


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    """Cheap prefilter: the slow patterns only run on texts that contain one of their words."""
    lowered = text.lower()
    return any(word in lowered for word in words)


_PROOF_WORDS = ("prov", "show", "demonstrat", "verif", "justif", "proof")
_FIGURE_WORDS = ("figure", "diagram", "picture", "drawing", "illustrat", "sketch", "graph", "image",
                 "shown", "pictured", "depicted", "drawn")  # fmt: skip
_TABLE_WORDS = ("table", "stem")


def is_proof(question: str) -> bool:
    return _mentions(question, _PROOF_WORDS) and bool(_PROOF.search(question))


def needs_image(question: str) -> bool:
    if _IMAGE_MARKUP.search(question):
        return True
    return _mentions(question, _FIGURE_WORDS) and bool(_FIGURE_REF.search(question))


def needs_table(question: str) -> bool:
    if _TABLE_MARKUP.search(question):
        return True
    return _mentions(question, _TABLE_WORDS) and bool(_TABLE_REF.search(question))


def answer_words(answer: str) -> list[str]:
    """Words of the answer outside LaTeX commands (`\\text{…}` content counts as words)."""
    unwrapped = _LATEX_WRAPPER.sub(lambda m: f" {m.group(1)} ", answer)
    return _WORD.findall(_LATEX_COMMAND.sub(" ", unwrapped))


def is_unverifiable_answer(answer: str | None, *, max_words: int) -> bool:
    if answer is None or not answer.strip():
        return False  # a missing answer is the required-fields stage's reason
    return bool(_PROSE_ANSWER.search(answer)) or len(answer_words(answer)) > max_words


def _has_choice_run(letters: list[str]) -> bool:
    wanted = iter("ABC")
    expected = next(wanted)
    for letter in letters:
        if letter == expected:
            expected = next(wanted, None)
            if expected is None:
                return True
    return False


def is_multiple_choice(question: str, answer: str | None) -> bool:
    if _has_choice_run(_CHOICE_PAREN.findall(question)) or _has_choice_run(_CHOICE_LINE.findall(question)):
        return True
    return bool(answer and _LETTER_ANSWER.fullmatch(answer))
