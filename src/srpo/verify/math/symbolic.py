"""Values that need algebra: LaTeX parsed by math-verify's parser, compared with sympy.

Runs inside grader worker processes only (the parent bounds every call with a hard timeout), and
imports sympy and latex2sympy lazily so that importing srpo never pays for them.

How two values are compared, and why:
- constants (no free symbols) are evaluated exactly when they are rational, so `100!` and
  `100! + 1` differ (a float comparison at 15 digits calls them equal); irrational constants are
  compared at 60 digits and then proved with `Expr.equals`, so `\\sqrt{10^{40}+1}` is not `10^{20}`;
- a decimal answer to an irrational gold follows the rounding rule of `numbers.approximates`;
- expressions with symbols are probed at fixed points to reject quickly, then must simplify to
  zero difference: agreement at a few points is never enough;
- numbers too large to evaluate (`9^{9^{9^9}}`) are refused by a size bound before evaluation;
- `i` is the imaginary unit and `e` Euler's number.

Covers: parsing, size guards, value / equation / set equality. Does not cover: the shape of an
answer or plain numbers (see `structure`, `numbers`).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from srpo.verify.math.numbers import PlainNumber, approximates

if TYPE_CHECKING:
    pass

MAX_LOG10 = 5000  # refuse numbers with more digits than this before evaluating them
PRECISION = 60
_DECIMAL_LITERAL = re.compile(r"(\d*)\.(\d+)")
_PROBES = ((7, 3), (-5, 4), (11, 7), (-13, 9), (3, 11))


class Unparseable(ValueError):
    """The text is not LaTeX that math-verify's parser can read."""


class TooLarge(ValueError):
    """A number too large to evaluate in reasonable time and memory."""


@lru_cache(maxsize=4096)
def parse_latex(text: str) -> Any:
    """LaTeX -> sympy, with `i` as the imaginary unit. Raises Unparseable."""
    import sympy
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.math_normalization import NormalizationConfig
    from math_verify.grader import should_treat_as_complex

    config = NormalizationConfig(
        basic_latex=True, units=False, malformed_operators=True, nits=False, boxed="none"
    )
    try:
        expr = latex2sympy(text, is_real=not should_treat_as_complex(text), normalization_config=config)
    except Exception as error:  # the parser raises bare Exceptions for syntax errors
        raise Unparseable(f"cannot parse {text!r}: {type(error).__name__}") from error
    if not isinstance(expr, sympy.Basic | sympy.MatrixBase):
        raise Unparseable(f"cannot parse {text!r}: got {type(expr).__name__}")
    return _imaginary_unit(expr)


def _imaginary_unit(expr: Any) -> Any:
    import sympy

    symbols = getattr(expr, "free_symbols", set())
    units = {s: sympy.I for s in symbols if s.name == "i"}
    return expr.xreplace(units) if units else expr


# ------------------------------------------------------------------------------ size guard


def log10_bound(expr: Any) -> float:
    """An upper bound on the digits needed to write the numeric parts of `expr` exactly
    (inf when unbounded); symbols count as small numbers."""
    import sympy

    if isinstance(expr, sympy.Rational):
        return math.log10(max(abs(expr.p), abs(expr.q), 1))
    if expr.is_Atom:
        return 1.0
    if isinstance(expr, sympy.Pow):
        return max(log10_bound(expr.base), 1.0) * _magnitude(expr.exp)
    if isinstance(expr, sympy.exp):
        return _magnitude(expr.args[0])
    if isinstance(expr, sympy.factorial | sympy.factorial2 | sympy.binomial | sympy.gamma):
        value = max(_magnitude(arg) for arg in expr.args)
        return value * max(math.log10(max(value, 2.0)), 1.0)
    children = [log10_bound(arg) for arg in expr.args] or [1.0]
    if isinstance(expr, sympy.Mul):
        return sum(max(child, 0.0) for child in children)
    return max(children) + math.log10(len(children) + 1)


def _magnitude(expr: Any) -> float:
    """An upper bound on |value| of an exponent or argument (its size in digits when symbolic)."""
    import sympy

    digits = log10_bound(expr)
    if digits > MAX_LOG10:
        return math.inf
    try:
        return max(abs(complex(sympy.N(expr, 15))), 1.0)
    except (TypeError, ValueError, OverflowError):
        return 10**digits


def check_size(expr: Any) -> None:
    import sympy

    items = list(expr) if isinstance(expr, sympy.MatrixBase) else [expr]
    for item in items:
        if log10_bound(item) > MAX_LOG10:
            raise TooLarge(f"a number in {str(item)[:40]!r} has more than {MAX_LOG10} digits")


# ------------------------------------------------------------------------------ comparisons


def decimals_written(text: str) -> PlainNumber | None:
    """How a plain decimal answer was written (for the rounding rule), else None."""
    match = _DECIMAL_LITERAL.fullmatch(text.strip().lstrip("+-").strip())
    if not match:
        return None
    whole, frac = match.group(1) or "0", match.group(2)
    value = Fraction(int(whole + frac), 10 ** len(frac))
    value = -value if text.strip().startswith("-") else value
    return PlainNumber(value, len(frac), len((whole + frac).lstrip("0")))


def values_equal(gold_text: str, answer_text: str) -> bool:
    """Two scalar LaTeX values (numbers, expressions, matrices, sets) are equal."""
    gold, answer = parse_latex(gold_text), parse_latex(answer_text)
    check_size(gold)
    check_size(answer)
    return _equal(gold, answer, decimal_answer=decimals_written(answer_text))


def _equal(gold: Any, answer: Any, *, decimal_answer: PlainNumber | None = None) -> bool:
    import sympy
    from sympy.core.relational import Relational

    if gold == answer:
        return True
    if isinstance(gold, sympy.MatrixBase) or isinstance(answer, sympy.MatrixBase):
        return _matrices_equal(gold, answer)
    if isinstance(gold, sympy.Set | Relational) or isinstance(answer, sympy.Set | Relational):
        return _as_sets_equal(gold, answer)
    if not (isinstance(gold, sympy.Expr) and isinstance(answer, sympy.Expr)):
        return False
    if gold.has(sympy.zoo, sympy.nan) or answer.has(sympy.zoo, sympy.nan):
        return False  # an undefined value (1/0, 0/0) equals nothing, not even another one
    if gold.has(sympy.oo, -sympy.oo) or answer.has(sympy.oo, -sympy.oo):
        return sympy.simplify(gold) == sympy.simplify(answer)
    if not gold.free_symbols and not answer.free_symbols:
        return _constants_equal(gold, answer, decimal_answer)
    return _expressions_equal(gold, answer)


def _exact(expr: Any) -> Any:
    """Floats as the exact decimals they were written as, and factorials etc. evaluated."""
    import sympy

    floats = {f: sympy.Rational(str(f)) for f in expr.atoms(sympy.Float)}
    expr = expr.xreplace(floats) if floats else expr
    try:
        return expr.doit()
    except Exception:
        return expr


def _constants_equal(gold: Any, answer: Any, decimal_answer: PlainNumber | None) -> bool:
    import sympy

    gold, answer = _exact(gold), _exact(answer)
    if gold.is_Rational and answer.is_Rational:
        if gold == answer:
            return True
        return decimal_answer is not None and approximates(Fraction(int(gold.p), int(gold.q)), decimal_answer)
    gold_value = sympy.N(gold, PRECISION)
    answer_value = sympy.N(answer, PRECISION)
    if not (gold_value.is_number and answer_value.is_number):
        return False
    if decimal_answer is not None and gold_value.is_real:
        return approximates(Fraction(str(gold_value)), decimal_answer) or _proved_zero(gold - answer)
    scale = max(abs(gold_value), 1)
    if abs(gold_value - answer_value) > scale * sympy.Float(10) ** (-(PRECISION - 20)):
        return False
    return _proved_zero(gold - answer)


def _proved_zero(difference: Any) -> bool:
    import sympy

    if difference == 0:
        return True
    try:
        if sympy.simplify(difference) == 0:
            return True
        return difference.equals(0) is True
    except Exception:
        return False


def _expressions_equal(gold: Any, answer: Any) -> bool:
    import sympy

    symbols = sorted(gold.free_symbols | answer.free_symbols, key=lambda s: s.name)
    for offset, (numerator, denominator) in enumerate(_PROBES):
        point = {s: sympy.Rational(numerator + 2 * k + offset, denominator) for k, s in enumerate(symbols)}
        try:
            gold_value = complex(sympy.N(gold.xreplace(point), 30))
            answer_value = complex(sympy.N(answer.xreplace(point), 30))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue  # a pole or a non-number at this point: try the next one
        if abs(gold_value - answer_value) > 1e-9 * max(1.0, abs(gold_value)):
            return False
    difference = gold - answer
    return _proved_zero(difference) or sympy.expand(difference) == 0


def _matrices_equal(gold: Any, answer: Any) -> bool:
    import sympy

    if not (isinstance(gold, sympy.MatrixBase) and isinstance(answer, sympy.MatrixBase)):
        return False
    if gold.shape != answer.shape:
        return False
    return all(_equal(g, a) for g, a in zip(gold, answer, strict=True))


def _as_sets_equal(gold: Any, answer: Any) -> bool:
    import sympy

    try:
        gold_set = gold if isinstance(gold, sympy.Set) else _relation_set(gold)
        answer_set = answer if isinstance(answer, sympy.Set) else _relation_set(answer)
        if gold_set is None or answer_set is None:
            return False
        if gold_set == answer_set:
            return True
        return bool(gold_set.symmetric_difference(answer_set).is_empty)
    except (TypeError, ValueError, NotImplementedError, AttributeError):
        return False  # sympy cannot decide an ordering: not shown equal


def _relation_set(expr: Any) -> Any:
    """`x \\le 3` -> (-oo, 3], `1 < x \\le 2` -> (1, 2]; None unless one variable is bounded by
    constants. Built by hand because `as_set` gives up on endpoints such as pi^2/8."""
    import sympy
    from sympy.core.relational import Relational

    if isinstance(expr, sympy.And):
        parts = [_relation_set(arg) for arg in expr.args]
        return None if any(p is None for p in parts) else sympy.Intersection(*parts)
    if isinstance(expr, sympy.Or):
        parts = [_relation_set(arg) for arg in expr.args]
        return None if any(p is None for p in parts) else sympy.Union(*parts)
    if not isinstance(expr, Relational) or isinstance(expr, sympy.Eq | sympy.Ne):
        return None
    lhs, rhs = expr.lhs, expr.rhs
    if isinstance(rhs, sympy.Symbol) and not lhs.free_symbols:
        expr = expr.reversed  # 3 > x  ->  x < 3
        lhs, rhs = expr.lhs, expr.rhs
    if not isinstance(lhs, sympy.Symbol) or rhs.free_symbols:
        return None
    strict = isinstance(expr, sympy.StrictLessThan | sympy.StrictGreaterThan)
    if isinstance(expr, sympy.StrictLessThan | sympy.LessThan):
        return sympy.Interval(-sympy.oo, rhs, right_open=strict)
    return sympy.Interval(rhs, sympy.oo, left_open=strict)


def sets_equal(gold_text: str, answer_text: str) -> bool:
    """Intervals, unions and inequalities in one variable denote the same set of reals."""
    return _as_sets_equal(parse_latex(gold_text), parse_latex(answer_text))


def equations_equal(gold: tuple[str, str], answer: tuple[str, str]) -> bool:
    """`lhs = rhs` pairs describe the same equation: the differences are proportional."""
    import sympy

    g = parse_latex(gold[0]) - parse_latex(gold[1])
    a = parse_latex(answer[0]) - parse_latex(answer[1])
    check_size(g)
    check_size(a)
    if not g.free_symbols or not a.free_symbols:
        return False  # a statement about numbers ("2 + 3 = 5") is not an equation in unknowns
    if a == 0 or g == 0:
        return g == a
    ratio = sympy.simplify(g / a)
    return bool(ratio.is_number and ratio != 0 and ratio.is_finite)
