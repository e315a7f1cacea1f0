"""Math filters, after PRIME's cleaning: reject what a rule-based reward cannot grade fairly.

Each rule reads the raw question (and the gold answer) and says whether its reason applies:
- `math.multi_part`: two or more enumerated parts that each ask for something, numbered in any
  common style (`srpo.curate.rules.parts` finds them).
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

from srpo.curate.rules.parts import has_parts
from srpo.curate.rules.registry import Subject, rule

_SELECTION = r"(?:\(\s*(?:\d|[ivx]{1,4}|[IVX]{1,4})\s*\)|[①②③④⑤⑥⑦⑧⑨])"
_SELECTION_ANSWER = re.compile(
    rf"\s*(?:\\text\{{)?\s*{_SELECTION}(?:[\s,;、]*(?:and\s*)?{_SELECTION})*\s*\}}?\s*"
)

# An imperative at the start of a sentence or part: "census data show that" is not a proof.
_PROOF = re.compile(
    r"(?:^|[.!?:;]\s+|\n\s*|\)\s*|\$\s*)(?:prove|show|demonstrate|verify)\s+(?:that|why)\b"
    r"|(?:^|[.!?:;]\s+|\n\s*|\)\s*)(?:prove|disprove)\b|\bprove\s+or\s+disprove\b|\bgive\s+a\s+proof\b",
    re.IGNORECASE | re.MULTILINE,
)

_IMAGE_MARKUP = re.compile(
    r"\[asy\]|!\[[^\]]*\]\(|<img\b|<image>|\\includegraphics|\.(?:png|jpe?g|gif|svg)\b", re.IGNORECASE
)
_FIGURE = r"(?:figure|diagram|picture|drawing|illustration|sketch|graph|image)s?"
# Only cues that a drawing is needed: a figure placed "below", a drawing as the subject that
# "shows", colours of a drawing, "see the figure". "As shown" or "in the diagram" alone are not
# enough: problems often say that and then describe everything in words.
_FIGURE_REF = re.compile(
    rf"\b{_FIGURE}\s+(?:below|above|at\s+(?:the\s+)?(?:right|left)|to\s+the\s+(?:right|left))\b"
    rf"|\b(?:the|this|following|above|accompanying|adjoining)\s+{_FIGURE}\s+(?:shows?|illustrates?|depicts?)\b"
    r"|\bshown\s+in\s+(?:red|blue|green|black|gray|grey|bold|dashed)\b"
    rf"|\b(?:see|refer\s+to)\s+(?:the\s+)?(?:accompanying\s+|following\s+)?{_FIGURE}\b",
    re.IGNORECASE,
)

_TABULAR = re.compile(r"\\begin\{tabular\}\s*(?:\[[^\]]*\])?\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_MARKDOWN_TABLE = re.compile(r"^\s*\|.*\|\s*\n\s*\|?\s*:?-{3,}", re.MULTILINE)
_TABLE_REF = re.compile(
    r"\b(?:in|from|using|use|according\s+to|based\s+on|see|complete|consider)\s+(?:the|this)\s+"
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

_CHOICE_PAREN = re.compile(r"(?<![\w)\]])\(\s*([A-E])\s*\)")
_ASY = re.compile(r"\[asy\].*?(?:\[/asy\]|$)", re.DOTALL | re.IGNORECASE)
_LETTER_CUE = re.compile(
    r"\b(?:letter|option|choice)s?\b|\b[A-H],\s*[A-H],?\s*(?:,\s*)?or\s+[A-H]\b", re.IGNORECASE
)
_CHOICE_LINE = re.compile(r"^\s*\(?([A-E])[.:)]\s", re.MULTILINE)
_LETTER_ANSWER = re.compile(
    r"\s*(?:\\(?:text|textbf|mathrm)\s*\{)?\s*\(?\s*[A-H]\s*\)?(?:\s*[,;]?\s*\(?\s*[A-H]\s*\)?)*\s*\}?\s*"
)


def is_multi_part(question: str, answer: str | None = None) -> bool:
    if answer and _SELECTION_ANSWER.fullmatch(answer):
        return False  # "(1)(3)(4)": the parts are statements to choose among, one answer
    return has_parts(question)


@rule("math.multi_part")
def _multi_part(subject: Subject) -> bool:
    return is_multi_part(subject.problem.question, subject.problem.answer)


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


@rule("math.proof")
def _proof(subject: Subject) -> bool:
    return is_proof(subject.problem.question)


def needs_image(question: str) -> bool:
    if _IMAGE_MARKUP.search(question):
        return True
    return _mentions(question, _FIGURE_WORDS) and bool(_FIGURE_REF.search(question))


@rule("math.needs_image")
def _needs_image(subject: Subject) -> bool:
    return needs_image(subject.problem.question)


def _data_tabular(question: str) -> bool:
    """A tabular of at least two columns; one-column tabulars only lay out arithmetic."""
    for match in _TABULAR.finditer(question):
        spec = re.sub(r"[@!>]\{(?:[^{}]|\{[^{}]*\})*\}|p\{[^{}]*\}", "c", match.group(1))
        if len(re.findall(r"[lcrX]", spec)) >= 2:
            return True
    return False


def needs_table(question: str) -> bool:
    if _data_tabular(question) or _MARKDOWN_TABLE.search(question):
        return True
    return _mentions(question, _TABLE_WORDS) and bool(_TABLE_REF.search(question))


@rule("math.needs_table")
def _needs_table(subject: Subject) -> bool:
    return needs_table(subject.problem.question)


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
    text = _ASY.sub(" ", question)  # drawings label points (A), (B), (C)
    if _has_choice_run(_CHOICE_PAREN.findall(text)) or _has_choice_run(_CHOICE_LINE.findall(text)):
        return True
    if answer and _SELECTION_ANSWER.fullmatch(answer):
        return True  # "(1)(3)(4)": a selection among enumerated statements
    letter = bool(answer and _LETTER_ANSWER.fullmatch(answer))
    wrapped = bool(answer and re.search(r"\(\s*[A-E]\s*\)|\\text", answer))
    return letter and (wrapped or bool(_LETTER_CUE.search(text.replace("$", ""))))


@rule("math.multiple_choice")
def _multiple_choice(subject: Subject) -> bool:
    problem = subject.problem
    return subject.config.reject_multiple_choice and is_multiple_choice(problem.question, problem.answer)


def answer_words(answer: str) -> list[str]:
    """Words of the answer outside LaTeX commands (`\\text{…}` content counts as words)."""
    unwrapped = _LATEX_WRAPPER.sub(lambda m: f" {m.group(1)} ", answer)
    return _WORD.findall(_LATEX_COMMAND.sub(" ", unwrapped))


def is_unverifiable_answer(answer: str | None, *, max_words: int) -> bool:
    """Prose, a proof, "see solution", two values joined by ≈, or nothing at all.

    (An empty gold is also `math.missing_answer`, the required-fields stage's reason, which runs
    first; scoring this rule alone still counts it.)
    """
    if answer is None or not answer.strip():
        return True
    if re.search(r"\S.*?(?:\\approx|≈)", answer):
        return True  # "2/3 \approx 0.67": two values; "\approx 8.24" alone is one
    return bool(_PROSE_ANSWER.search(answer)) or len(answer_words(answer)) > max_words


@rule("math.unverifiable_answer")
def _unverifiable_answer(subject: Subject) -> bool:
    return is_unverifiable_answer(subject.problem.answer, max_words=subject.config.max_answer_words)
