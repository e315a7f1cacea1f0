"""How bench/make_grading_sets.py varies a gold answer: its type, and equivalent or wrong forms.

Each builder returns (form, answer, label) triples; the label comes from how the form is built
(an off-by-one is wrong, a reordered set is right), never from a grader.
"""

from __future__ import annotations

import re
from fractions import Fraction

from srpo.verify.math.normalise import normalise_answer, text_key, unwrap_text
from srpo.verify.math.numbers import parse_plain_number
from srpo.verify.math.structure import (
    BareList,
    Bracketed,
    Matrix,
    Scalar,
    TooComplex,
    Union,
    parse_shape,
)


def answer_type(gold: str) -> str:
    normalised = normalise_answer(gold)
    if text_key(normalised) is not None:
        return "text"
    if "matrix}" in gold:
        return "matrix"
    if re.fullmatch(r"\w+_\{?\d+\}?", normalised):
        return "base"
    try:
        shape = parse_shape(normalised)
    except TooComplex:
        return "other"
    if isinstance(shape, Union) or ("\\infty" in gold and isinstance(shape, Bracketed)):
        return "interval"
    if isinstance(shape, Bracketed) and not shape.is_set:
        both = (shape.left, shape.right)
        return "interval" if both in (("[", "]"), ("(", "]"), ("[", ")")) else "tuple"
    if isinstance(shape, BareList | Bracketed):
        return "set"
    if "=" in normalised:
        return "equation"
    if re.search(r"(?<![a-zA-Z\\])i(?![a-zA-Z])", normalised):
        return "complex"
    if "\\infty" in normalised:
        return "infinity"
    if re.search(r"\\circ|\\\$|\\%|%|\\text\{\s*[a-z]|\\mbox", gold):
        return "units"
    number = parse_plain_number(normalised)
    if number is not None:
        if number.decimals is not None:
            return "decimal"
        return "integer" if number.value.denominator == 1 and "frac" not in normalised else "fraction"
    if "\\sqrt" in normalised:
        return "radical"
    if re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", normalised)):
        return "expression"
    return "constant"


# ----------------------------------------------------------------------------------- variants


def integer_variants(gold: str) -> list[tuple[str, str, bool]]:
    n = int(parse_plain_number(normalise_answer(gold)).value)
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
    value = parse_plain_number(normalise_answer(gold)).value
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
    number = parse_plain_number(normalise_answer(gold))
    text = normalise_answer(gold)
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

    from srpo.verify.math.symbolic import Unparseable, parse_latex

    normalised = normalise_answer(gold)
    try:
        expr = parse_latex(normalised)
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
        if printed.replace(" ", "") != normalised.replace(" ", ""):
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
    if len(set(normalise_answer(i) for i in items)) == len(items):
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
    normalised = normalise_answer(gold)
    out = [
        ("left_right", _with_left_right(normalised), True),
        ("tight", normalised.replace(" ", ""), True),
    ]
    if isinstance(shape, Union):
        parts = [normalise_answer(p) for p in re.split(r"\\cup", normalised)]
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
    items = [normalise_answer(i.text) for i in getattr(shape, "items", ()) if isinstance(i, Scalar)]
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
    match = re.fullmatch(r"\s*(-?\s*[\d.]+)\s*([+-])\s*([\d.]*)\s*i\s*", normalise_answer(gold))
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
    key = text_key(normalise_answer(gold))
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
    other = next((o for o in others if text_key(normalise_answer(o)) not in (None, key)), None)
    if other:
        out.append(("other_word", other, False))
    return out


def equation_variants(gold: str) -> list[tuple[str, str, bool]]:
    normalised = normalise_answer(gold)
    lhs, _, rhs = normalised.partition("=")
    out = [("tight", normalised.replace(" ", ""), True)]
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
    normalised = normalise_answer(gold)
    number = parse_plain_number(normalised)
    if number is None:
        return []
    bumped = _plus_one(number.value) if number.decimals is None else _bump_last_digit(normalised)
    unit_free = gold.replace(normalised, bumped, 1) if normalised in gold else None
    out = [("number_only", normalised, True), ("same_units", gold, True)]
    if "\\circ" in gold:
        out += [
            ("degree_sign", f"{normalised}°", True),
            ("degree_word", f"{normalised} \\text{{ degrees}}", True),
        ]
    if "\\$" in gold:
        out.append(("dollar_word", f"{normalised} \\text{{ dollars}}", True))
    if unit_free:
        out.append(("number_changed", unit_free, False))
    return out


def base_variants(gold: str) -> list[tuple[str, str, bool]]:
    match = re.fullmatch(r"(\w+)_\{?(\d+)\}?", normalise_answer(gold))
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
    normalised = normalise_answer(gold)
    shape = parse_shape(normalised)
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
