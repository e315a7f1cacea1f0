"""Equivalence of a gold and an extracted answer, including math-verify's known false positives."""

from __future__ import annotations

import pytest

from srpo.verify.math.equivalence import GoldError, NeedsAlgebra, compare
from srpo.verify.math.normalise import normalise_answer, text_key
from srpo.verify.math.numbers import numbers_equal, parse_plain_number
from srpo.verify.math.structure import (
    BareList,
    Bracketed,
    Matrix,
    Scalar,
    TooComplex,
    Union,
    parse_shape,
)

EQUAL = [
    ("42", "042"), ("1000", "1,000"), ("10080", "10,\\!080"), ("1000000", "1{,}000{,}000"),
    ("0.5", "\\frac{1}{2}"), ("\\frac{3}{4}", "\\dfrac34"), ("1\\frac{4}{5}", "1.8"),
    ("\\frac{1}{3}", "0.333333"), ("2\\sqrt{3}", "\\sqrt{12}"),
    ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}"),
    ("x^2+2x+1", "(x+1)^2"), ("\\cot x", "\\frac{\\cos x}{\\sin x}"),
    ("y = -2x", "2x + y = 0"), ("x = 5", "5"), ("5", "x = 5"), ("10", "\\frac{20}{2} = 10"),
    ("(-\\infty, 3]", "x \\le 3"), ("(2, \\infty)", "x > 2"), ("[-2, 7]", "x \\in [-2, 7]"),
    ("(0,9) \\cup (9,36)", "(9,36) \\cup (0,9)"),
    ("\\{1,2\\}", "\\{2,1\\}"), ("1, 2, 3", "3, 1, 2"), ("7, -2, \\text{ and } -5", "-5, -2, 7"),
    ("(1, 2)", "\\left( 1,2 \\right)"), ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi/2)"),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
     "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1, 2)"),
    ("3+4i", "4i+3"), ("\\frac{1}{1+i}", "\\frac{1-i}{2}"),
    ("\\infty", "\\infty"), ("e^2", "\\mathrm{e}^2"), ("e", "\\mathrm{e}"),
    ("55^\\circ", "55"), ("\\$18.90", "18.9"), ("25\\%", "25"), ("5", "5 \\text{ cm}"),
    ("864 \\mbox{ inches}^2", "864"), ("\\text{(C)}", "C"), ("\\text{Navin}", "\\text{navin}"),
    ("4343_6", "4343_{6}"), ("3 \\pm 2\\sqrt{2}", "3+2\\sqrt{2}, 3-2\\sqrt{2}"),
    ("\\pi", "3.14159"), ("100!", "100!"), ("\\binom{10}{3}", "120"), ("\\log_2 8", "3"),
]  # fmt: skip

DIFFERENT = [
    # math-verify's known false positives
    ("(1, 2)", "(2, 1)"), ("(1, 2)", "\\{1, 2\\}"), ("(1, 2)", "2, 1"), ("(3, 4)", "\\{4, 3\\}"),
    ("100!", "100! + 1"), ("10^{20}", "\\sqrt{10^{40}+1}"), ("2^{100}", "2^{100}+1"),
    ("30!", "265252859812191058636308480000001"), ("e", "\\mathrm{e}^{2}"),
    ("10", "2 + 3 = 10"), ("x = 5", "x = 6 = 5"),
    # several candidates for one value
    ("3", "3, 5"), ("3", "3 \\text{ or } 5"), ("3", "\\pm 3"), ("3", "\\{3, 5\\}"),
    # close but wrong
    ("\\frac{1}{3}", "0.33"), ("\\pi", "3.14"), ("2\\sqrt{3}", "\\sqrt{13}"),
    ("x^2+2x+1", "(x+1)^3"), ("y = -2x", "y = 2x"), ("x = 5", "y = 5"),
    ("(-\\infty, 3]", "x < 3"), ("(-\\infty, 3]", "(-\\infty, 3)"),
    ("(0,9) \\cup (9,36)", "(0,36)"),
    ("1, 2, 3", "1, 2"), ("\\{1,2,3\\}", "(1, 2, 3)"),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
     "\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}"),
    ("\\frac{1}{1+i}", "\\frac{1+i}{2}"), ("\\infty", "-\\infty"), ("1", "1,000"),
    ("\\text{(C)}", "(D)"), ("4343_6", "1011"), ("5", "\\text{not } 5"), ("25\\%", "0.25"),
    ("9", "9^{9^{9^9}}"), ("5", "1000000000!"), ("5", "e^{e^{e^{e^{e}}}}"),
]  # fmt: skip


def _compare(gold: str, answer: str):
    return compare(gold, answer, algebra=True)


@pytest.mark.parametrize(("gold", "answer"), EQUAL)
def test_equivalent_forms_are_equal(gold, answer):
    assert _compare(gold, answer).equal


@pytest.mark.parametrize(("gold", "answer"), DIFFERENT)
def test_different_values_are_not_equal(gold, answer):
    verdict = _compare(gold, answer)
    assert not verdict.equal and verdict.reason


def test_the_cheap_pass_decides_plain_numbers_and_shapes_without_sympy():
    assert compare("1000", "1,000", algebra=False).equal
    assert not compare("(1, 2)", "(2, 1)", algebra=False).equal
    assert not compare("3", "3, 5", algebra=False).equal
    with pytest.raises(NeedsAlgebra):
        compare("2\\sqrt{3}", "\\sqrt{12}", algebra=False)


def test_absurd_answers_are_refused_before_parsing():
    assert "longer than" in _compare("5", "(" * 500 + "5" + ")" * 500).reason
    assert "nest deeper" in _compare("5", "(" * 40 + "5" + ")" * 40).reason


def test_an_unusable_gold_is_an_error_not_a_wrong_answer():
    with pytest.raises(GoldError):
        _compare("", "5")
    with pytest.raises(GoldError):
        _compare("\\frac{1}{", "5")


def test_plain_numbers_are_exact():
    huge = parse_plain_number("9" * 300)
    assert not numbers_equal(huge, parse_plain_number("9" * 299 + "8"))
    assert parse_plain_number("6.72 \\times 10^{-5}").value == parse_plain_number("0.0000672").value
    assert parse_plain_number("x") is None


def test_normalisation_keeps_words_that_change_the_meaning():
    assert normalise_answer("5\\text{ cm}^2") == "5"
    assert normalise_answer("12 apples") == "12"
    assert normalise_answer("\\text{not } 5") != "5"
    assert normalise_answer("x^2 y") == "x^2 y"  # a variable is not a unit
    assert text_key("\\text{(C)}") == "c" and text_key("x") is None


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("\\textbf{(211) }", "211"),  # AoPS solutions box the answer choice like this
        ("\\mathbf{127}", "127"),
        ("\\frac \\pi4 + 2 - \\sqrt2", "\\frac{\\pi}{4} + 2 - \\sqrt{2}"),
        ("\\begin{pmatrix} 1 & \\phantom -1 \\end{pmatrix}", "\\begin{pmatrix} 1 & 1 \\end{pmatrix}"),
        ("\\approx 8.24 \\text{ mph}", "8.24"),
        ("\\text{(E)},", "\\text{(E)}"),
        ("\\sin^2 t", "\\sin^2 t"),  # a variable after a power is not a unit
        ("\\text{infinity}", "\\infty"),
        ("x \\in [2, 5)", "[2, 5)"),
    ],
)
def test_spellings_found_in_the_shared_golds(raw, normalised):
    assert normalise_answer(raw) == normalised


def test_shapes_follow_the_brackets():
    assert isinstance(parse_shape("(1, 2)"), Bracketed)
    assert parse_shape("\\{1, 2\\}").is_set
    assert isinstance(parse_shape("1, 2"), BareList)
    assert isinstance(parse_shape("(1, 2) \\cup (3, 4)"), Union)
    assert isinstance(parse_shape("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"), Matrix)
    assert parse_shape("((5))") == Scalar("5")
    assert parse_shape("1 \\pm \\sqrt{2}") == BareList((Scalar("1 + \\sqrt{2}"), Scalar("1 - \\sqrt{2}")))
    with pytest.raises(TooComplex):
        parse_shape("[" * 20 + "1" + "]" * 20)
