"""Answer extraction: the last top-level box, else an explicit final-answer phrase, else none."""

from __future__ import annotations

import time

import pytest

from srpo.verify.math.boxed import boxed_contents, final_box, last_boxed
from srpo.verify.math.extract import extract_answer


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("so $\\boxed{42}$.", "42"),
        ("first \\boxed{1}, then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\fbox{7}", "7"),
        ("\\boxed 5 is it", "5"),
        ("\\boxed{\\boxed{11}\\times\\boxed{20}}", "\\boxed{11}\\times\\boxed{20}"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
        ("\\boxed{5 ... and later \\boxed{6}", "6"),  # an unclosed box has no inside
    ],
)
def test_the_last_top_level_box_is_the_answer(response, expected):
    extraction = extract_answer(response)
    assert (extraction.text, extraction.source) == (expected, "boxed")


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        ("\\boxed{}", "empty box"),
        ("\\boxed{  }", "empty box"),
        ("\\boxed{5} then \\boxed{6", "unclosed"),
    ],
)
def test_an_empty_or_unclosed_final_box_is_a_failed_answer(response, problem):
    extraction = extract_answer(response)
    assert extraction.text is None
    assert problem in extraction.problem


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Thus the final answer is $\\frac{1}{2}$.", "\\frac{1}{2}"),
        ("Final answer: 42", "42"),
        ("The answer is **17**.\nDone.", "17"),
        ("the answer is 3.5.", "3.5"),
        ("The final answer is $\\$18.90$.", "\\$18.90"),
        ("The answer is 5. Actually the answer is 6.", "6"),
        ("The answer is \\(x+1\\) indeed", "x+1"),
    ],
)
def test_without_a_box_an_explicit_phrase_counts(response, expected):
    extraction = extract_answer(response)
    assert (extraction.text, extraction.source) == (expected, "phrase")


def test_anything_else_is_no_answer():
    assert extract_answer("I think it is 5. So 5.").source == "none"
    assert extract_answer("").text is None


def test_extraction_is_linear_in_the_length_of_the_response():
    hostile = "\\boxed{" * 50_000 + "x" * 100_000
    started = time.monotonic()
    extraction = extract_answer(hostile)
    assert time.monotonic() - started < 2.0  # quadratic scanning takes minutes here
    assert extraction.text is None and "unclosed" in extraction.problem


def test_boxed_helpers_used_by_the_adapters():
    assert last_boxed("a \\boxed{1} b \\boxed{2} c \\boxed{3") == "2"
    assert boxed_contents("\\boxed{1}\\boxed{2") == ["1", None]
    assert final_box("no box") is None
