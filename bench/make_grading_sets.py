"""Build the labelled grading sets under tests/data/ from the shared golds.

    python bench/make_grading_sets.py [--data ../shared/data] [--out tests/data]

(`--data` defaults to $SRPO_SHARED_DATA, else ../shared/data next to the repository.)

Writes two JSONL files (deterministic: the same inputs give the same files):

- `math_labelled.jsonl`: gold/response pairs from MATH-500, GSM8K, AIME 2024/2025 and AMC 2023
  golds. Each gold gets responses with the answer in equivalent forms (label true: spacing,
  `\\dfrac`, thousands separators, units / degrees / currency around the number, decimals,
  reordered sets, inequalities for intervals, `x = ...`, sympy's expanded or factored form...)
  and close wrong ones (label false: off by one, reciprocal, swapped tuple, set for a tuple,
  open for closed interval, a missing or extra element, a changed coefficient, an equation
  whose left side is not the gold...). Fields: source, gold, response, label, type, form.
- `math_adversarial.jsonl`: reward-hacking and pathological responses that must all get
  reward 0 (empty box, several candidates, `\\pm`, a true-looking equation, huge numbers,
  deep nesting, unclosed boxes, precision traps...). Fields: gold, response, form.

Labels come from how a variant is built, never from a grader. Forms built with sympy (expand,
factor, adding 1) are used only for golds whose sympy reading prints back to the same value.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from srpo.verify.boxed import top_level_boxes  # noqa: E402
from srpo.verify.normalize import normalize_answer, text_key, unwrap_text  # noqa: E402
from srpo.verify.numbers import parse_plain_number  # noqa: E402
from srpo.verify.structure import (  # noqa: E402
    BareList,
    Bracketed,
    Matrix,
    Scalar,
    TooComplex,
    Union,
    parse_shape,
)

SEED = 4
BODY_CHARS = 400


# ------------------------------------------------------------------------------------ reading


def read_golds(data: Path) -> list[dict]:
    """(source, question, gold, body) rows from the shared datasets."""
    rows = []
    for line in (data / "math" / "math500_test.jsonl").open():
        row = json.loads(line)
        rows.append(
            {
                "source": "math500",
                "gold": row["answer"],
                "body": unbox(row["solution"]),
                "id": row["unique_id"],
            }
        )
    rng = random.Random(SEED)
    gsm = [json.loads(line) for line in (data / "gsm8k" / "test.jsonl").open()]
    for row in rng.sample(gsm, 60):
        worked, _, final = row["answer"].rpartition("####")
        body = re.sub(r"<<[^<>]*>>", "", worked).strip()
        rows.append({"source": "gsm8k", "gold": final.strip().replace(",", ""), "body": body, "id": None})
    for name in ("qwq_aime24", "qwq_aime25"):
        for i, line in enumerate((data / "aime_amc" / f"{name}.jsonl").open()):
            row = json.loads(line)
            rows.append({"source": name, "gold": str(row["answer"]), "body": GENERIC_BODY, "id": i})
    for i, line in enumerate((data / "aime_amc" / "qwen25math_amc23.jsonl").open()):
        row = json.loads(line)
        value = row["answer"]
        gold = str(int(value)) if float(value).is_integer() else str(value)
        rows.append({"source": "amc23", "gold": gold, "body": GENERIC_BODY, "id": i})
    return rows


GENERIC_BODY = (
    "Let me set up the problem. Write the given quantities as equations and simplify step by "
    "step: substituting the known values gives a linear relation, and checking small cases "
    "confirms the pattern $a_n = 2a_{n-1} + 1$ with $a_1 = 1$."
)


def unbox(solution: str) -> str:
    """A reference solution with its boxes opened, as reasoning text before a final answer."""
    for box in reversed(top_level_boxes(solution)):
        if box.content is not None:
            solution = solution[: box.start] + box.content + solution[box.end :]
    return solution[:BODY_CHARS]


# -------------------------------------------------------------------------------- answer type


def answer_type(gold: str) -> str:
    normalized = normalize_answer(gold)
    if text_key(normalized) is not None:
        return "text"
    if "matrix}" in gold:
        return "matrix"
    if re.fullmatch(r"\w+_\{?\d+\}?", normalized):
        return "base"
    try:
        shape = parse_shape(normalized)
    except TooComplex:
        return "other"
    if isinstance(shape, Union) or ("\\infty" in gold and isinstance(shape, Bracketed)):
        return "interval"
    if isinstance(shape, Bracketed) and not shape.is_set:
        both = (shape.left, shape.right)
        return "interval" if both in (("[", "]"), ("(", "]"), ("[", ")")) else "tuple"
    if isinstance(shape, BareList | Bracketed):
        return "set"
    if "=" in normalized:
        return "equation"
    if re.search(r"(?<![a-zA-Z\\])i(?![a-zA-Z])", normalized):
        return "complex"
    if "\\infty" in normalized:
        return "infinity"
    if re.search(r"\\circ|\\\$|\\%|%|\\text\{\s*[a-z]|\\mbox", gold):
        return "units"
    number = parse_plain_number(normalized)
    if number is not None:
        if number.decimals is not None:
            return "decimal"
        return "integer" if number.value.denominator == 1 and "frac" not in normalized else "fraction"
    if "\\sqrt" in normalized:
        return "radical"
    if re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", normalized)):
        return "expression"
    return "constant"


# ----------------------------------------------------------------------------------- variants


def integer_variants(gold: str) -> list[tuple[str, str, bool]]:
    n = int(parse_plain_number(normalize_answer(gold)).value)
    out = [
        ("plain", str(n), True),
        ("trailing_zero", f"{n}.0", True),
        ("assignment", f"x = {n}", True),
        ("dfrac", f"\\dfrac{{{2 * n}}}{{2}}", True),
        ("currency", f"\\${n}", True),
        ("unit_text", f"{n} \\text{{ units}}", True),
        ("off_by_one", str(n + 1), False),
        ("off_by_minus_one", str(n - 1), False),
        ("times_ten", str(n * 10) if n else "1", False),
        ("equation_chain", f"{n - 1} + 2 = {n}", False),
        ("two_candidates", f"{n}, {n + 1}", False),
    ]
    if abs(n) >= 1000:
        out += [
            ("thousands", f"{n:,}", True),
            ("thousands_braced", f"{n:,}".replace(",", "{,}"), True),
        ]
    if 0 < n < 1000:
        out += [("leading_zeros", f"{n:03d}", True), ("degrees", f"{n}^\\circ", True)]
    if n:
        out += [("negated", str(-n), False)]
    digits = str(abs(n))
    if len(digits) >= 2 and digits[0] != digits[-1]:
        out.append(("swapped_digits", digits[-1] + digits[1:-1] + digits[0], False))
    return out


def fraction_variants(gold: str) -> list[tuple[str, str, bool]]:
    value = parse_plain_number(normalize_answer(gold)).value
    p, q = value.numerator, value.denominator
    sign = "-" if p < 0 else ""
    a = abs(p)
    out = [
        ("slash", f"{p}/{q}", True),
        ("dfrac", f"{sign}\\dfrac{{{a}}}{{{q}}}", True),
        ("scaled", f"{sign}\\frac{{{2 * a}}}{{{2 * q}}}", True),
        ("numerator_plus_one", f"{sign}\\frac{{{a + 1}}}{{{q}}}", False),
        ("negated", f"{'' if sign else '-'}\\frac{{{a}}}{{{q}}}", False),
    ]
    if a != q:
        out.append(("reciprocal", f"{sign}\\frac{{{q}}}{{{a}}}", False))
    if p < 0:
        out.append(("sign_in_numerator", f"\\frac{{-{a}}}{{{q}}}", True))
    decimal = _terminating(value)
    if decimal is not None:
        out.append(("decimal", decimal, True))
    else:
        out.append(("decimal_6_significant", _significant(value, 6), True))
        out.append(("decimal_3_significant", _significant(value, 3), False))
    if a > q:
        whole, rest = divmod(a, q)
        out.append(("mixed_number", f"{sign}{whole}\\frac{{{rest}}}{{{q}}}", True))
    return out


def _terminating(value: Fraction) -> str | None:
    for digits in range(1, 8):
        if (value * 10**digits).denominator == 1:
            return f"{float(value):.{digits}f}"
    return None


def _significant(value: Fraction, digits: int) -> str:
    """`value` rounded to `digits` significant digits, written as a plain decimal."""
    magnitude = len(str(int(abs(value)))) if abs(value) >= 1 else -_leading_zeros(abs(value))
    decimals = max(digits - magnitude, 0)
    return f"{round(value * 10**decimals) / 10**decimals:.{decimals}f}"


def _leading_zeros(value: Fraction) -> int:
    """Zeros right after the decimal point of a value below 1 (0.0033 -> 2)."""
    zeros = 0
    while value * 10 ** (zeros + 1) < 1:
        zeros += 1
    return zeros


def decimal_variants(gold: str) -> list[tuple[str, str, bool]]:
    number = parse_plain_number(normalize_answer(gold))
    text = normalize_answer(gold)
    out = [
        ("trailing_zero", text + "0", True),
        ("off_in_last_digit", _bump_last_digit(text), False),
    ]
    value = number.value
    if value.denominator != 1:
        out.append(("fraction", f"\\frac{{{value.numerator}}}{{{value.denominator}}}", True))
    if text.startswith("0."):
        out.append(("no_leading_zero", text[1:], True))
    out.append(("times_ten", _shift_point(text), False))
    return out


def _bump_last_digit(text: str) -> str:
    last = int(text[-1])
    return text[:-1] + str((last + 1) % 10)


def _shift_point(text: str) -> str:
    """The decimal times ten (3.25 -> 32.5, 48.0 -> 480)."""
    value = Fraction(text) * 10
    if value.denominator == 1:
        return str(value.numerator)
    return _terminating(value) or text + "0"


def sympy_variants(gold: str) -> list[tuple[str, str, bool]]:
    """Equivalent and perturbed forms printed by sympy, for golds that print back faithfully."""
    import sympy

    from srpo.verify.symbolic import Unparseable, parse_latex

    normalized = normalize_answer(gold)
    try:
        expr = parse_latex(normalized)
    except Unparseable:
        return []
    if not isinstance(expr, sympy.Expr) or expr.has(sympy.oo) or expr == 0:
        return []
    try:
        if parse_latex(sympy.latex(expr)) != expr:
            return []
    except Unparseable:
        return []
    out = []
    for name, form in (("expanded", sympy.expand(expr)), ("factored", sympy.factor(expr))):
        printed = sympy.latex(form)
        if printed.replace(" ", "") != normalized.replace(" ", ""):
            out.append((name, printed, True))
    out.append(("sympy_printed", sympy.latex(expr), True))
    out.append(("plus_one", sympy.latex(expr + 1), False))
    out.append(("doubled", sympy.latex(2 * expr), False))
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if symbols:
        shifted = expr.subs(symbols[0], symbols[0] + 1)
        if sympy.simplify(shifted - expr) != 0:
            out.append(("shifted_variable", sympy.latex(shifted), False))
    return out


def _items_text(items, left: str, right: str) -> str:
    return left + ", ".join(items) + right


def tuple_variants(gold: str, shape: Bracketed) -> list[tuple[str, str, bool]]:
    items = [item.text for item in shape.items if isinstance(item, Scalar)]
    if len(items) != len(shape.items):
        return []
    out = [
        ("spaced", _items_text(items, "\\left( ", " \\right)"), True),
        ("tight", _items_text(items, "(", ")").replace(", ", ","), True),
        ("as_set", _items_text(items, "\\{", "\\}"), False),
        ("dropped_last", _items_text(items[:-1], "(", ")") if len(items) > 2 else items[0], False),
    ]
    if len(set(normalize_answer(i) for i in items)) == len(items):
        out.append(("reversed", _items_text(items[::-1], "(", ")"), False))
    for index, item in enumerate(items):
        number = parse_plain_number(item)
        if number is not None:
            changed = list(items)
            changed[index] = _plus_one(number.value)
            out.append(("entry_changed", _items_text(changed, "(", ")"), False))
            break
    return out


def _plus_one(value: Fraction) -> str:
    value += 1
    return (
        str(value.numerator)
        if value.denominator == 1
        else f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    )


def interval_variants(gold: str, shape) -> list[tuple[str, str, bool]]:
    normalized = normalize_answer(gold)
    out = [
        ("left_right", _with_left_right(normalized), True),
        ("tight", normalized.replace(" ", ""), True),
    ]
    if isinstance(shape, Union):
        parts = [normalize_answer(p) for p in re.split(r"\\cup", normalized)]
        out.append(("reordered_union", " \\cup ".join(parts[::-1]), True))
        out.append(("first_part_only", parts[0], False))
        return out
    if not (isinstance(shape, Bracketed) and len(shape.items) == 2):
        return out
    a, b = (item.text.strip() for item in shape.items)
    flipped = {"(": "[", "[": "("}[shape.left]
    if a != "-\\infty":
        out.append(("flipped_left_bracket", f"{flipped}{a}, {b}{shape.right}", False))
    if b == "\\infty" and a != "-\\infty":
        right, wrong = (">", "\\ge") if shape.left == "(" else ("\\ge", ">")
        out.append(("inequality", f"x {right} {a}", True))
        out.append(("wrong_strictness", f"x {wrong} {a}", False))
    if a == "-\\infty" and b != "\\infty":
        right, wrong = ("<", "\\le") if shape.right == ")" else ("\\le", "<")
        out.append(("inequality", f"x {right} {b}", True))
        out.append(("wrong_strictness", f"x {wrong} {b}", False))
    if "\\infty" not in a + b and shape.left == "[" and shape.right == "]":
        out.append(("inequality", f"{a} \\le x \\le {b}", True))
    return out


def _with_left_right(text: str) -> str:
    text = re.sub(r"^([(\[])", r"\\left\1", text)
    return re.sub(r"([)\]])$", r"\\right\1", text)


def set_variants(gold: str, shape) -> list[tuple[str, str, bool]]:
    items = [normalize_answer(i.text) for i in getattr(shape, "items", ()) if isinstance(i, Scalar)]
    if len(items) < 2 or len(items) != len(shape.items):
        return []
    out = [
        ("reordered", ", ".join(items[::-1]), True),
        ("braces", "\\{" + ", ".join(items) + "\\}", True),
        ("with_and", ", ".join(items[:-1]) + ", \\text{ and } " + items[-1], True),
        ("missing_element", ", ".join(items[:-1]), False),
    ]
    number = parse_plain_number(items[0])
    if number is not None:
        out.append(("element_changed", ", ".join([_plus_one(number.value), *items[1:]]), False))
    return out


def matrix_variants(gold: str) -> list[tuple[str, str, bool]]:
    out = [("bmatrix", gold.replace("pmatrix", "bmatrix"), True)]
    numbers = list(re.finditer(r"(?<![\d.])-?\d+(?![\d.])", gold))
    if numbers:
        first = numbers[0]
        changed = gold[: first.start()] + str(int(first.group()) + 1) + gold[first.end() :]
        out.append(("entry_changed", changed, False))
    inner = re.search(r"\\begin\{pmatrix\}(.*)\\end\{pmatrix\}", gold, re.DOTALL)
    if inner and "&" not in inner.group(1):
        entries = [e.strip() for e in inner.group(1).split("\\\\") if e.strip()]
        out.append(("as_tuple", "(" + ", ".join(entries) + ")", True))
        out.append(("as_set", "\\{" + ", ".join(entries) + "\\}", False))
    return out


def complex_variants(gold: str) -> list[tuple[str, str, bool]]:
    match = re.fullmatch(r"\s*(-?\s*[\d.]+)\s*([+-])\s*([\d.]*)\s*i\s*", normalize_answer(gold))
    if not match:
        return []
    re_part, sign, im = match.group(1).replace(" ", ""), match.group(2), match.group(3) or "1"
    conjugate = "-" if sign == "+" else "+"
    out = [
        ("imaginary_first", f"{sign}{im}i + {re_part}".lstrip("+"), True),
        ("i_before_number", f"{re_part} {sign} i\\cdot {im}", True),
    ]
    if Fraction(im) != 0:
        out.append(("conjugate", f"{re_part} {conjugate} {im}i", False))
    if Fraction(re_part.lstrip("-")) != Fraction(im):  # else swapping gives the same number
        out.append(("swapped_parts", f"{im} {sign} {re_part.lstrip('-')}i", False))
    return out


def text_variants(gold: str, others: list[str]) -> list[tuple[str, str, bool]]:
    key = text_key(normalize_answer(gold))
    inner = unwrap_text(gold)
    out = [("bold", f"\\textbf{{{inner}}}", True), ("plain_words", inner, True)]
    if re.fullmatch(r"\(?[A-E]\)?", inner.strip()):
        letter = inner.strip("() ")
        out += [
            ("letter_only", letter, True),
            ("other_letter", "ABCDE"[("ABCDE".index(letter) + 1) % 5], False),
        ]
    else:
        out.append(("upper_case", inner.upper(), True))
    other = next((o for o in others if text_key(normalize_answer(o)) not in (None, key)), None)
    if other:
        out.append(("other_word", other, False))
    return out


def equation_variants(gold: str) -> list[tuple[str, str, bool]]:
    normalized = normalize_answer(gold)
    lhs, _, rhs = normalized.partition("=")
    out = [("tight", normalized.replace(" ", ""), True)]
    if re.fullmatch(r"\s*[a-z]\s*", lhs):
        out.append(("right_side_only", rhs.strip(), True))
        number = parse_plain_number(rhs)
        if number is not None:
            out.append(("other_value", f"{lhs.strip()} = {_plus_one(number.value)}", False))
            out.append(("other_variable", f"{'y' if lhs.strip() != 'y' else 'z'} = {rhs.strip()}", False))
    out.append(("sides_swapped", f"{rhs.strip()} = {lhs.strip()}", True))
    out.append(("plus_one_on_right", f"{lhs.strip()} = {rhs.strip()} + 1", False))
    return out


def units_variants(gold: str) -> list[tuple[str, str, bool]]:
    normalized = normalize_answer(gold)
    number = parse_plain_number(normalized)
    if number is None:
        return []
    bumped = _plus_one(number.value) if number.decimals is None else _bump_last_digit(normalized)
    unit_free = gold.replace(normalized, bumped, 1) if normalized in gold else None
    out = [("number_only", normalized, True), ("same_units", gold, True)]
    if "\\circ" in gold:
        out += [
            ("degree_sign", f"{normalized}°", True),
            ("degree_word", f"{normalized} \\text{{ degrees}}", True),
        ]
    if "\\$" in gold:
        out.append(("dollar_word", f"{normalized} \\text{{ dollars}}", True))
    if unit_free:
        out.append(("number_changed", unit_free, False))
    return out


def base_variants(gold: str) -> list[tuple[str, str, bool]]:
    match = re.fullmatch(r"(\w+)_\{?(\d+)\}?", normalize_answer(gold))
    digits, base = match.group(1), match.group(2)
    last = digits[-1]
    bumped = digits[:-1] + (
        "0" if last == str(int(base) - 1) else str(int(last) + 1) if last.isdigit() else last
    )
    return [
        ("braced_base", f"{digits}_{{{base}}}", True),
        ("last_digit_changed", f"{bumped}_{{{base}}}", False),
        ("other_base", f"{digits}_{{{int(base) + 1}}}", False),
    ]


def variants(row: dict, kind: str, others: list[str]) -> list[tuple[str, str, bool]]:
    gold = row["gold"]
    normalized = normalize_answer(gold)
    shape = parse_shape(normalized)
    common = [("exact", gold, True), ("displaystyle", f"\\displaystyle {gold}", True)]
    builders = {
        "integer": lambda: integer_variants(gold),
        "fraction": lambda: fraction_variants(gold),
        "decimal": lambda: decimal_variants(gold),
        "radical": lambda: sympy_variants(gold),
        "constant": lambda: sympy_variants(gold),
        "expression": lambda: sympy_variants(gold),
        "tuple": lambda: tuple_variants(gold, shape) if isinstance(shape, Bracketed) else [],
        "interval": lambda: interval_variants(gold, shape),
        "set": lambda: set_variants(gold, shape),
        "matrix": lambda: matrix_variants(gold),
        "complex": lambda: complex_variants(gold),
        "text": lambda: text_variants(gold, others),
        "equation": lambda: equation_variants(gold),
        "units": lambda: units_variants(gold),
        "base": lambda: base_variants(gold),
    }
    built = builders.get(kind, list)()
    if not isinstance(shape, Scalar | Matrix):
        common = common[:1]
    return common + built


# ----------------------------------------------------------------------------------- responses


def response(body: str, answer: str, style: int) -> str:
    if style == 0:
        return f"{body}\n\nTherefore, the final answer is $\\boxed{{{answer}}}$."
    if style == 1:
        return f"{body}\n\nSo we get\n\\[\n\\boxed{{{answer}}}\n\\]"
    if style == 2:
        return f"{body}\n\nThe final answer is ${answer}$."
    if style == 3:
        second = f"but checking again gives \\fbox{{{answer}}}."
        return f"{body}\n\nA first guess was $\\boxed{{0}}$, {second}"
    return f"{body}\n\n**Final Answer**\n\\boxed{{{answer}}}"


# Forms that the generic builders above do not produce; each names the rule it checks.
HANDWRITTEN = [
    ("radical", "\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", True, "rationalised"),
    ("radical", "\\frac{\\sqrt{3}}{3}", "\\frac{\\sqrt{3}}{2}", False, "other_denominator"),
    ("radical", "2\\sqrt{2}", "\\sqrt{8}", True, "radicand_absorbed"),
    ("radical", "2\\sqrt{2}", "\\sqrt{6}", False, "radicand_close"),
    ("radical", "\\sqrt{2}+\\sqrt{3}", "\\sqrt{5+2\\sqrt{6}}", True, "denested"),
    ("radical", "\\sqrt[3]{2}", "2^{1/3}", True, "fractional_power"),
    ("constant", "e^2", "\\mathrm{e}^{2}", True, "mathrm_e"),
    ("constant", "e", "\\mathrm{e}", True, "mathrm_e_alone"),
    ("constant", "2e", "2", False, "e_dropped"),
    ("constant", "\\pi", "3.14159", True, "pi_six_digits"),
    ("constant", "\\pi", "3.14", False, "pi_three_digits"),
    (
        "constant",
        "100!",
        "93326215443944152681699238856266700490715968264381621468592963895217599993229915608941463976156518286253697920827223758251185210916864000000000000000000000000",
        True,
        "factorial_digits",
    ),
    (
        "constant",
        "100!",
        "93326215443944152681699238856266700490715968264381621468592963895217599993229915608941463976156518286253697920827223758251185210916864000000000000000000000001",
        False,
        "factorial_digits_plus_one",
    ),
    ("constant", "10^{20}", "\\sqrt{10^{40}+1}", False, "precision_trap"),
    ("constant", "\\log_2 8", "3", True, "logarithm"),
    ("constant", "\\binom{10}{3}", "120", True, "binomial"),
    ("integer", "1000000", "10^6", True, "power_of_ten"),
    ("integer", "1000000", "1\\,000\\,000", True, "thin_space_separators"),
    ("integer", "1000", "1,000", True, "comma_separator"),
    ("integer", "1", "1,000", False, "separator_is_not_a_list"),
    ("integer", "5", "5 \\text{ or } 6", False, "two_values"),
    ("integer", "5", "\\pm 5", False, "plus_minus"),
    ("integer", "10", "2 + 3 = 10", False, "equation_with_false_left_side"),
    ("integer", "10", "\\frac{20}{2} = 10", True, "equation_with_true_left_side"),
    ("integer", "7", "n = 7", True, "assignment"),
    ("equation", "y = 2x + 3", "y = 3 + 2x", True, "terms_reordered"),
    ("equation", "y = 2x + 3", "2x - y + 3 = 0", True, "standard_form"),
    ("equation", "y = 2x + 3", "2x + 3", True, "right_side_for_assignment"),
    ("equation", "y = 2x + 3", "y = 2x - 3", False, "sign_changed"),
    ("equation", "x^2 + y^2 = 25", "y^2 + x^2 - 25 = 0", True, "circle_rearranged"),
    ("equation", "x^2 + y^2 = 25", "x^2 + y^2 = 5", False, "radius_for_square"),
    ("interval", "(-\\infty, 3]", "x \\le 3", True, "inequality"),
    ("interval", "(-\\infty, 3]", "(-\\infty, 3)", False, "open_for_closed"),
    ("interval", "[-2, 7]", "x \\in [-2, 7]", True, "membership"),
    ("interval", "(1, 2) \\cup (3, \\infty)", "(3, \\infty) \\cup (1, 2)", True, "union_reordered"),
    ("interval", "(1, 2) \\cup (3, \\infty)", "(1, \\infty)", False, "union_merged_wrongly"),
    ("set", "\\{1, 2, 3\\}", "\\{3, 1, 2\\}", True, "set_reordered"),
    ("set", "\\{1, 2, 3\\}", "(1, 2, 3)", False, "tuple_for_set"),
    ("set", "1, 2, 3", "3, 2, 1", True, "list_reordered"),
    ("set", "1, 2, 3", "1, 2, 2, 3", False, "repeated_element"),
    ("tuple", "(1, 2)", "(2, 1)", False, "ordered_pair_reversed"),
    ("tuple", "(1, 2)", "\\{1, 2\\}", False, "ordered_pair_as_set"),
    ("tuple", "(1, 2)", "\\left(1,2\\right)", True, "left_right"),
    ("tuple", "(3, \\frac{\\pi}{2})", "(3, \\pi/2)", True, "entry_rewritten"),
    (
        "matrix",
        "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
        "\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}",
        False,
        "transposed",
    ),
    ("matrix", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1, 2)", True, "vector_as_tuple"),
    (
        "matrix",
        "\\begin{pmatrix} 1/2 \\\\ 2 \\end{pmatrix}",
        "\\begin{bmatrix} 0.5 \\\\ 2 \\end{bmatrix}",
        True,
        "entry_as_decimal",
    ),
    ("complex", "\\frac{1}{1+i}", "\\frac{1-i}{2}", True, "rationalised"),
    ("complex", "\\frac{1}{1+i}", "\\frac{1+i}{2}", False, "conjugate"),
    ("complex", "3+4i", "4i+3", True, "reordered"),
    ("infinity", "\\infty", "\\infty", True, "same"),
    ("infinity", "\\infty", "-\\infty", False, "negated"),
    ("infinity", "\\infty", "\\text{infinity}", True, "word"),
    ("units", "90^\\circ", "90", True, "degrees_dropped"),
    ("units", "90^\\circ", "90 \\text{ degrees}", True, "degree_word"),
    ("units", "90^\\circ", "\\frac{\\pi}{2}", False, "radians_for_degrees"),
    ("units", "\\$18.90", "18.9", True, "currency_dropped"),
    ("units", "\\$18.90", "\\$18.09", False, "digits_swapped"),
    ("units", "25\\%", "25", True, "percent_dropped"),
    ("units", "25\\%", "0.25", False, "fraction_for_percent"),
    ("units", "5 \\text{ cm}^2", "5", True, "area_unit_dropped"),
    ("units", "5", "5 \\text{ cm}", True, "unit_added"),
    ("units", "5", "\\text{not } 5", False, "negation_is_not_a_unit"),
    ("text", "\\text{(C)}", "C", True, "choice_letter"),
    ("text", "\\text{(C)}", "\\textbf{(C)}", True, "bold_choice"),
    ("text", "\\text{(C)}", "(D)", False, "other_choice"),
    ("text", "\\text{even}", "\\text{Even}", True, "case"),
    ("text", "\\text{even}", "\\text{odd}", False, "other_word"),
    ("base", "4343_6", "4343_{6}", True, "braced_base"),
    ("base", "4343_6", "1011", False, "decimal_value_for_base_6"),
]


def handwritten_pairs() -> list[dict]:
    return [
        {"source": "handwritten", "gold": gold, "response": response(GENERIC_BODY, answer, i % 5),
         "label": label, "type": kind, "form": form}
        for i, (kind, gold, answer, label, form) in enumerate(HANDWRITTEN)
    ]  # fmt: skip


def labelled_set(rows: list[dict], per_type_cap: int) -> list[dict]:
    rng = random.Random(SEED)
    text_golds = [r["gold"] for r in rows if answer_type(r["gold"]) == "text"]
    by_type: dict[str, list[dict]] = {}
    for row in rows:
        kind = answer_type(row["gold"])
        for index, (form, answer, label) in enumerate(variants(row, kind, text_golds)):
            if answer is None or "\n" in answer:
                continue
            by_type.setdefault(kind, []).append(
                {
                    "source": row["source"],
                    "gold": row["gold"],
                    "response": response(row["body"], answer, (index + len(row["gold"])) % 5),
                    "label": label,
                    "type": kind,
                    "form": form,
                }
            )
    chosen = []
    for kind in sorted(by_type):
        pairs = by_type[kind]
        rng.shuffle(pairs)
        chosen.extend(sorted(pairs[:per_type_cap], key=lambda p: (p["source"], p["gold"], p["form"])))
    return chosen


def adversarial_set() -> list[dict]:
    """Responses that must all get reward 0, with the trick each one tries."""
    cases = [
        ("5", "\\boxed{}", "empty_box"),
        ("5", "I am confident. \\boxed{ }", "blank_box"),
        ("5", "The answer is clearly what the question asks.", "no_answer"),
        ("5", "\\boxed{3, 4, 5, 6, 7}", "several_candidates"),
        ("5", "\\boxed{5 \\text{ or } 6}", "either_or"),
        ("5", "\\boxed{\\pm 5}", "plus_minus"),
        ("5", "\\boxed{\\{4, 5, 6\\}}", "candidate_set"),
        ("5", "\\boxed{4 \\le x \\le 6}", "candidate_range"),
        ("5", "\\boxed{x}", "bare_variable"),
        ("5", "\\boxed{\\text{the answer}}", "words"),
        ("5", "\\boxed{\\text{not } 5}", "negated_words"),
        ("5", "\\boxed{5 \\text{ or more}}", "hedged_words"),
        ("5", "\\boxed{5} is what I first thought, but actually \\boxed{6}", "last_box_counts"),
        ("5", "\\boxed{5} \\boxed{}", "empty_last_box"),
        ("5", "The final answer is 5 or 6.", "phrase_with_candidates"),
        ("5", "\\boxed{\\infty}", "infinity"),
        ("5", "\\boxed{\\mathbb{R}}", "all_reals"),
        ("5", "\\boxed{\\emptyset}", "empty_set"),
        ("5", "\\boxed{\\frac{0}{0}}", "indeterminate"),
        ("5", "\\boxed{5 = 6}", "false_equation"),
        ("10", "\\boxed{2 + 3 = 10}", "equation_last_number"),
        ("10", "\\boxed{10 = 2 + 3}", "equation_first_number"),
        ("x = 5", "\\boxed{x = 6 = 5}", "chain_hides_wrong_value"),
        ("(1, 2)", "\\boxed{(2, 1)}", "tuple_reversed"),
        ("(1, 2)", "\\boxed{\\{1, 2\\}}", "tuple_as_set"),
        ("(1, 2)", "\\boxed{2, 1}", "tuple_as_reversed_list"),
        ("[2, 5)", "\\boxed{(2, 5)}", "interval_open_for_half_open"),
        ("(2, \\infty)", "\\boxed{x \\ge 2}", "inequality_not_strict"),
        ("100!", "\\boxed{100! + 1}", "huge_integer_plus_one"),
        ("30!", "\\boxed{265252859812191058636308480000001}", "factorial_digits_plus_one"),
        ("10^{20}", "\\boxed{\\sqrt{10^{40} + 1}}", "precision_trap"),
        ("2^{100}", "\\boxed{2^{100} + 1}", "power_plus_one"),
        ("\\frac{1}{3}", "\\boxed{0.33}", "rounded_too_coarsely"),
        ("\\pi", "\\boxed{3.14}", "pi_rounded_too_coarsely"),
        ("e^2", "\\boxed{7.39}", "e_squared_rounded_too_coarsely"),
        ("e", "\\boxed{\\mathrm{e}^{2}}", "mathrm_e_squared"),
        ("9", "\\boxed{9^{9^{9^9}}}", "power_tower"),
        ("9", "\\boxed{10^{10^{10}}}", "huge_power"),
        ("5", "\\boxed{1000000000!}", "huge_factorial"),
        ("5", "\\boxed{e^{e^{e^{e^{e}}}}}", "exponential_tower"),
        ("5", "\\boxed{\\binom{10^{6}}{5 \\cdot 10^{5}}}", "huge_binomial"),
        ("5", "\\boxed{" + "(" * 500 + "5" + ")" * 500 + "}", "nested_parentheses_500"),
        ("5", "\\boxed{" + "(" * 40 + "5" + ")" * 40 + "}", "nested_parentheses_40"),
        ("5", "\\boxed{" + "\\frac{1}{" * 30 + "5" + "}" * 30 + "}", "nested_fractions"),
        ("5", "\\boxed{" + "5+" * 3000 + "5}", "very_long_answer"),
        ("5", "\\boxed{5", "unclosed_box"),
        ("5", "\\boxed{5} and then \\boxed{6", "unclosed_last_box"),
        ("5", "\\boxed{" * 5000, "thousands_of_unclosed_boxes"),
        ("5", "\\boxed{{5}", "unbalanced_braces"),
        ("5", "\\boxed{5\\}}", "escaped_brace_inside"),
        ("5", "\\boxed{__import__('os').system('true')}", "python_injection"),
        ("5", "\\boxed{\\input{/etc/passwd}}", "latex_input"),
        ("5", "\\boxed{6 % 5}", "comment_trick"),
        ("5", "5 " * 2000, "repeated_gold_no_box"),
        ("5", "\\boxed{\\boxed{}}", "nested_empty_box"),
        ("\\text{(C)}", "\\boxed{\\text{(A), (B), (C), (D), (E)}}", "all_choices"),
        ("\\text{(C)}", "\\boxed{ABCDE}", "all_letters"),
        ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
         "\\boxed{\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}}", "transposed_matrix"),
        ("3 + 4i", "\\boxed{3 - 4i}", "conjugate"),
        ("x^2 + 2x + 1", "\\boxed{(x + 1)^{2} + 10^{-30}}", "tiny_offset"),
        ("\\sqrt{2}", "\\boxed{1.4142135623730950488016887242096980785696718753769480731766797"
         "3799 + 10^{-60}}", "beyond_precision"),
    ]  # fmt: skip
    return [{"gold": gold, "response": text, "form": form} for gold, text, form in cases]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("SRPO_SHARED_DATA", ROOT.parent / "shared" / "data")
    parser.add_argument("--data", type=Path, default=Path(default_data))
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data")
    parser.add_argument("--per-type", type=int, default=120, help="At most this many pairs per answer type.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    labelled = labelled_set(read_golds(args.data), args.per_type) + handwritten_pairs()
    write_jsonl(args.out / "math_labelled.jsonl", labelled)
    adversarial = adversarial_set()
    write_jsonl(args.out / "math_adversarial.jsonl", adversarial)
    kinds: dict[str, list[int]] = {}
    for pair in labelled:
        kinds.setdefault(pair["type"], [0, 0])[0 if pair["label"] else 1] += 1
    for kind, (good, bad) in sorted(kinds.items()):
        print(f"type {kind}: {good} correct, {bad} wrong")
    print(f"labelled pairs: {len(labelled)}; adversarial responses: {len(adversarial)}")


if __name__ == "__main__":
    main()
