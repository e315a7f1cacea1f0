"""Plain numbers, read and compared exactly, without sympy.

Most gold answers (all of GSM8K, AIME and AMC, most of MATH) are integers, decimals or simple
fractions. Reading them with `fractions.Fraction` is exact (no float rounding: `100!` and
`100! + 1` differ) and takes microseconds, so these pairs never reach a worker process.

A decimal answer to a gold that has no short decimal form (`1/3`, `\\pi`) counts when it is the
gold rounded or truncated to the digits written, with at least `MIN_SIGNIFICANT` significant
digits: `0.333333` is 1/3, `0.3333` is not (the question asked for the exact value).

Covers: integers (`025`, `-7`), decimals (`.5`, `2.50`), `a/b`, `\\frac{a}{b}` (also `\\frac34`),
mixed numbers (`1\\frac{4}{5}`), scientific notation (`6.72 \\times 10^{-5}`, `1.2e-5`).
Does not cover: anything with a symbol or an operator (see `symbolic`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MIN_SIGNIFICANT = 6
MAX_DIGITS = 400  # longer literals go the symbolic way, where size guards apply

_SIGN = r"(?P<sign>[+-])?\s*"
_DECIMAL = r"(?P<int>\d*)(?:\.(?P<frac>\d+))?"
_EXPONENT = (
    r"(?:\s*(?:\\times|\\cdot|\*)\s*10\s*\^\s*\{?\s*(?P<exp>[+-]?\d{1,3})\s*\}?"
    r"|[eE](?P<eexp>[+-]?\d{1,3}))?"
)
_DECIMAL_NUMBER = re.compile(_SIGN + _DECIMAL + _EXPONENT)
_FRACTION_BODY = (
    r"\\frac\s*(?:\{\s*(?P<num>[+-]?\d+)\s*\}|(?P<num1>\d))"
    r"\s*(?:\{\s*(?P<den>\d+)\s*\}|(?P<den1>\d))"
)
_LATEX_FRACTION = re.compile(_SIGN + r"(?P<whole>\d+\s*)?" + _FRACTION_BODY)
_SLASH_FRACTION = re.compile(_SIGN + r"(?P<num>\d+)\s*/\s*(?P<den>\d+)")


@dataclass(frozen=True, slots=True)
class PlainNumber:
    value: Fraction
    decimals: int | None = None  # digits after the point when written as a decimal, else None
    significant_digits: int = 0  # digits written, leading zeros not counted (decimals only)


def parse_plain_number(text: str) -> PlainNumber | None:
    """The value of `text` when it is nothing but a number, else None."""
    text = text.strip()
    if not text or len(text) > MAX_DIGITS:
        return None
    match = _DECIMAL_NUMBER.fullmatch(text)
    if match and (match.group("int") or match.group("frac")):
        return _decimal(match)
    match = _LATEX_FRACTION.fullmatch(text) or _SLASH_FRACTION.fullmatch(text)
    if match:
        return _fraction(match)
    return None


def _decimal(match: re.Match[str]) -> PlainNumber:
    whole, frac = match.group("int") or "0", match.group("frac") or ""
    value = Fraction(int(whole + frac), 10 ** len(frac))
    exponent = match.group("exp") or match.group("eexp")
    decimals: int | None = len(frac) if match.group("frac") is not None else None
    if exponent:
        value *= Fraction(10) ** int(exponent)
        decimals = max(0, (decimals or 0) - int(exponent)) if decimals is not None else None
    significant = len((whole + frac).lstrip("0"))
    return PlainNumber(-value if match.group("sign") == "-" else value, decimals, significant)


def _fraction(match: re.Match[str]) -> PlainNumber | None:
    groups = match.groupdict()
    numerator = int(groups.get("num") or groups.get("num1"))
    denominator = int(groups.get("den") or groups.get("den1"))
    if denominator == 0:
        return None
    value = Fraction(numerator, denominator)
    whole = (groups.get("whole") or "").strip()
    if whole:
        if numerator < 0:
            return None  # "2\frac{-1}{2}" is not a mixed number
        value += int(whole)
    return PlainNumber(-value if groups.get("sign") == "-" else value)


def has_short_decimal(value: Fraction, decimals: int) -> bool:
    """True when `value` is written exactly with at most `decimals` digits after the point."""
    return (value * 10**decimals).denominator == 1


def approximates(gold: Fraction, answer: PlainNumber) -> bool:
    """An answer written as a decimal matches a gold without a short decimal form when it is the
    gold rounded or truncated to the digits it shows, with enough significant digits."""
    if answer.decimals is None or has_short_decimal(gold, answer.decimals):
        return False
    if answer.significant_digits < MIN_SIGNIFICANT:
        return False
    scale = 10**answer.decimals
    scaled = gold * scale
    candidates = {
        Fraction(round(scaled), scale),
        Fraction(int(scaled), scale),
    }  # rounded, truncated
    return answer.value in candidates


def numbers_equal(gold: PlainNumber, answer: PlainNumber) -> bool:
    return gold.value == answer.value or approximates(gold.value, answer)
