"""Gold-answer checks: parses, agrees with the solution's box, one answer when one is asked."""

from __future__ import annotations

import pytest

from srpo.verify.math.golds import GoldTask, asks_for_several, check_gold


def _check(answer, solution=None, question="What is $x$?"):
    return check_gold(GoldTask(question=question, answer=answer, solution=solution))


@pytest.mark.parametrize(
    ("answer", "solution", "question", "status", "code"),
    [
        (
            "\\frac{1}{2}",
            "So $x = \\boxed{0.5}$.",
            "What is $x$?",
            "verified",
            "gold.matches_solution",
        ),
        ("18", "She makes 9 * 2 = 18 dollars.", "How much?", "verified", "gold.parsed"),
        ("18", None, "How much?", "verified", "gold.parsed"),
        ("3", "Hence $\\boxed{5}$.", "What is $x$?", "wrong", "gold.disagrees_with_solution"),
        ("3 or 5", None, "What is the value of $x$?", "ambiguous", "gold.several_answers"),
        ("x=1; y=2", None, "What is $x$?", "ambiguous", "gold.several_answers"),
        ("3, 5", None, "Enter all solutions, separated by commas.", "verified", "gold.parsed"),
        (
            "5",
            "Roots $\\boxed{3}$ and $\\boxed{5}$.",
            "Find all roots.",
            "ambiguous",
            "gold.partial",
        ),
        (
            "3, 5",
            "Roots $\\boxed{3}$ and $\\boxed{5}$.",
            "Find all roots.",
            "verified",
            "gold.matches_solution",
        ),
        (
            "12",
            "First $\\boxed{144}$, so $\\boxed{12}$.",
            "What is $n$?",
            "ambiguous",
            "gold.solution_boxes_differ",
        ),
        (
            "\\frac{3}{2}",
            "$\\boxed{\\frac32}$, i.e. $\\boxed{1.5}$",
            "Find $t$.",
            "verified",
            "gold.matches_solution",
        ),
        ("\\frac{1}{", None, "What is $x$?", "unverifiable", "gold.unparseable"),
        ("", None, "What is $x$?", "unverifiable", "gold.missing"),
        ("211", "so $\\boxed{\\textbf{(211) }}$", "Find $m+n$.", "verified", "gold.matches_solution"),
        ("0, \\frac{1}{2}", None, "Solve $\\arcsin x = x$.", "verified", "gold.parsed"),
    ],
)
def test_gold_checks(answer, solution, question, status, code):
    check = _check(answer, solution, question)
    assert (check.status, check.code) == (status, code), check.reason


def test_questions_that_ask_for_several_values():
    assert asks_for_several("Enter all the solutions, separated by commas.")
    assert asks_for_several("Find both roots.")
    assert not asks_for_several("What is the value of $x$?")
