"""The functions grader workers run, kept in a light module.

The parent pickles references to these functions, which imports this module; it must not pull
in sympy (the parent never needs it). Workers get sympy preloaded by `worker`.

Covers: one comparison, one gold check. Does not cover: scheduling (see `pool`).
"""

from __future__ import annotations

from srpo.verify.math.equivalence import GoldError, compare
from srpo.verify.math.golds import GoldCheck, GoldTask, check_gold


def compare_pair(pair: tuple[str, str]) -> tuple[str, str]:
    """(gold, answer) -> (status, reason) with status correct, wrong or error."""
    gold, answer = pair
    try:
        verdict = compare(gold, answer, algebra=True)
    except GoldError as error:
        return "error", str(error)
    return ("correct" if verdict.equal else "wrong"), verdict.reason


def check_gold_task(task: GoldTask) -> GoldCheck:
    return check_gold(task)
