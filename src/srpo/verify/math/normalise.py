"""Putting an answer string into one canonical LaTeX spelling, without parsing it.

Both the gold and the extracted answer go through `normalise_answer`, so the rules only have to
be consistent, not complete: math delimiters, `\\left`/`\\right`, spacing commands, `\\dfrac`,
degree signs, percent signs, currency, thousands separators (`10,\\!080`, `1{,}000`, `58,500`),
`\\mathrm{e}` (Euler's number), unit words after a number (`5\\text{ cm}^2`, `12 apples`), and
"and"/"or" between values (which become a comma list, so that a list is seen as a list), and
`x \\in S` (which becomes `S`).

Unit text is only removed when it follows a number and holds no word that changes the meaning
("not", "or", "more", ...): `\\text{not } 5` must not become `5`.

Covers: string rewriting and the text key of word answers. Does not cover: the shape of an
answer (see `structure`) or its value (see `numbers`, `symbolic`).
"""

from __future__ import annotations

import re
import unicodedata

_UNICODE = {
    "−": "-", "–": "-", "×": r"\times ", "·": r"\cdot ", "÷": r"\div ", "√": r"\sqrt",
    "π": r"\pi ", "∞": r"\infty ", "≤": r"\le ", "≥": r"\ge ", "≠": r"\ne ", "±": r"\pm ",
    "∓": r"\mp ", "°": "", "∪": r"\cup ", "∅": r"\emptyset ", "⋅": r"\cdot ",
}  # fmt: skip
_DELIMITERS = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$")
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\.?")
_DROP = re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])")
_THOUSANDS_MARKUP = re.compile(r"(?<=\d)(?:\{,\}|,\\!|,\\,|\\,|\\!|\\ |~)(?=\d{3}(?!\d))")
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad(?![a-zA-Z])|~")
_FRAC = re.compile(r"\\[dtc]frac(?![a-zA-Z])")
_BINOM = re.compile(r"\\[dt]binom(?![a-zA-Z])")
_DEGREES = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])")
_PERCENT = re.compile(r"\\%|%|\\text\{\s*percent\s*\}")
_CURRENCY = re.compile(r"\\\$|\\text\{\s*\\\$\s*\}|\\euro|\\pounds|€|£")
_EULER = re.compile(r"\\(?:mathrm|text|operatorname|rm)\s*\{\s*e\s*\}|\{\\rm\s+e\}")
_IMAGINARY = re.compile(r"\\(?:mathrm|text|operatorname|rm)\s*\{\s*i\s*\}|\\imath(?![a-zA-Z])")
_TEXT_CMD = re.compile(
    r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mbox|mathbf|mathit|operatorname)\s*\{"
)
_INFINITY = re.compile(r"(?<![a-zA-Z\\])(?:infinity|inf)(?![a-zA-Z])", re.IGNORECASE)
_EMPTY_SET = re.compile(r"\\varnothing(?![a-zA-Z])|\\\{\s*\\\}")
_CONNECTIVE = re.compile(r"\s*,?\s*\\text\{\s*,?\s*(?:and|or)\s*\}\s*|\s*,?\s+(?:and|or)\s+", re.IGNORECASE)
_PLAIN_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_WHITESPACE = re.compile(r"\s+")
_PHANTOM = re.compile(r"\\phantom\s*(?:\{[^{}]*\}|\\[A-Za-z]+|\S)")  # invisible spacing
_LOOSE_FRAC = re.compile(r"\\frac\s*(\\[a-zA-Z]+|[0-9a-zA-Z])\s*(\\[a-zA-Z]+|[0-9a-zA-Z])")
_LOOSE_SQRT = re.compile(r"\\sqrt\s*(\\[a-zA-Z]+|[0-9a-zA-Z])")
_APPROX = re.compile(r"^\s*(?:\\approx|\\simeq|\\sim|=)\s*")
_FORMATTED_NUMBER = re.compile(
    r"\\(?:textbf|mathbf|text|textrm|mathrm|boldsymbol)\s*\{\s*\(?\s*([+-]?(?:[\d.,]+|\\infty))\s*\)?\s*\}"
)
_MEMBERSHIP = re.compile(r"^\s*[a-zA-Z](?:_\{?\w+\}?)?\s*\\in(?![a-zA-Z])\s*")

# Words that may never be dropped as a "unit": they change what the number means.
_MEANINGFUL = frozenset(
    """not no nor or and none neither either than more less fewer greater smaller larger least
    most at except but plus minus times over divided under above below between only about
    approximately roughly almost nearly is are equals equal undefined impossible infinite
    infinitely many all any some every each both sin cos tan cot sec csc log ln exp sqrt pi
    i e x y z n""".split()  # noqa: SIM905 - a word list reads better as text
)
_TRAILING_TEXT = re.compile(
    r"\\(?:text|textbf|textrm|textnormal|mathrm|mbox)\s*\{([^{}]*)\}(\s*\^\s*\{?\d\}?)?\s*$"
)
_TRAILING_WORDS = re.compile(r"(?<=\d)\s+((?:[A-Za-z]{2,}\.?\s*)+(?:\^\s*\{?\d\}?)?)\s*$")
_PLAIN_NUMBER_HEAD = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*|\.\d+)")
_UNIT_BODY = re.compile(r"[A-Za-z][A-Za-z .'/-]*")


def normalise_answer(text: str) -> str:
    """The canonical spelling of an answer; idempotent."""
    text = _unicode(text)
    text = _CURRENCY.sub("", text)  # before the delimiters: `\$` is not a math delimiter
    text = _DELIMITERS.sub(" ", text)
    text = _SIZING.sub("", text)
    text = _DROP.sub("", text)
    text = _THOUSANDS_MARKUP.sub("", text)
    text = _SPACING.sub(" ", text)
    text = _FRAC.sub(r"\\frac", text)
    text = _PHANTOM.sub("", text)
    text = _LOOSE_FRAC.sub(r"\\frac{\1}{\2}", text)  # \frac\pi4 -> \frac{\pi}{4}
    text = _LOOSE_SQRT.sub(r"\\sqrt{\1}", text)
    text = _INFINITY.sub(r"\\infty", text)
    text = _FORMATTED_NUMBER.sub(r"\1", text)  # \textbf{(211)} -> 211
    text = _BINOM.sub(r"\\binom", text)
    text = _DEGREES.sub("", text)
    text = _PERCENT.sub("", text)
    text = _EULER.sub("e", text)
    text = _IMAGINARY.sub("i", text)
    text = _EMPTY_SET.sub(r"\\emptyset", text)
    text = _strip_units(text.strip())
    text = _CONNECTIVE.sub(", ", text)
    text = _WHITESPACE.sub(" ", text).strip().rstrip(".,;").strip()
    text = _APPROX.sub("", text)
    text = _MEMBERSHIP.sub("", text)  # "x \in [2, 5)" states the set [2, 5)
    if _PLAIN_THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    return text


def _unicode(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(_UNICODE.get(char, char) for char in text)


def _is_unit(words: str) -> bool:
    tokens = [t.strip(".'").lower() for t in re.split(r"[\s/-]+", words) if t.strip(".'")]
    return bool(tokens) and not any(t in _MEANINGFUL for t in tokens)


def _strip_units(text: str) -> str:
    """Drop unit text after a number: `5\\text{ cm}^2` -> `5`, `12 apples` -> `12`."""
    for _ in range(3):  # "5 \text{ square } \text{feet}"
        match = _TRAILING_TEXT.search(text)
        if match and _UNIT_BODY.fullmatch(match.group(1).strip() or "-") and _is_unit(match.group(1)):
            head = text[: match.start()].rstrip()
            if head and (head[-1].isdigit() or head[-1] == "}"):
                text = head
                continue
        words = _TRAILING_WORDS.search(text)
        plain_head = words and _PLAIN_NUMBER_HEAD.fullmatch(text[: words.start()].strip())
        if plain_head and _is_unit(re.sub(r"\^.*", "", words.group(1))):
            text = text[: words.start()].rstrip()
            continue
        break
    return text


def unwrap_text(text: str) -> str:
    """`\\text{(C)}` -> `(C)`: text commands replaced by their content (one level, repeatedly)."""
    for _ in range(5):
        match = _TEXT_CMD.search(text)
        if not match:
            return text
        depth, index = 1, match.end()
        while index < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            index += 1
        if depth:
            return text
        text = text[: match.start()] + text[match.end() : index - 1] + text[index:]
    return text


_WORDS_ONLY = re.compile(r"[A-Za-z][A-Za-z '\-]*")


def text_key(text: str) -> str | None:
    """A word answer's comparison key (`\\text{(C)}` -> `c`, `\\text{Monday}` -> `monday`).

    None when the answer is not a word answer (it has digits, operators or LaTeX commands
    outside text), so `x` or `2\\pi` never compare as words.
    """
    has_text_command = bool(_TEXT_CMD.search(text))
    plain = unwrap_text(text).strip()
    bare = plain.strip("()[]. ")
    if not bare or not _WORDS_ONLY.fullmatch(bare):
        return None
    if not has_text_command and len(bare) == 1 and plain == bare:
        return None  # a lone letter outside \text is a variable, not a choice
    return re.sub(r"[^a-z]", "", bare.lower()) or None
