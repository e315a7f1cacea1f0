"""What runs inside a grader worker process.

This is the one srpo module that does work at import time, on purpose: the pool's forkserver
imports it once, so sympy, math-verify's LaTeX parser and its ANTLR tables are loaded and warm
in every worker forked from it (a replaced worker starts in milliseconds). Nothing outside the
worker pool imports it; `srpo-curate --help` never does.

Covers: the picklable task functions. Does not cover: scheduling them (see `pool`).
"""

from __future__ import annotations

import contextlib

from srpo.verify import symbolic
from srpo.verify.equivalence import GoldError, compare
from srpo.verify.golds import GoldCheck, GoldTask, check_gold

# Warm the parser and sympy's caches once, in the forkserver; a broken parser shows up later.
with contextlib.suppress(symbolic.Unparseable):
    symbolic.parse_latex("\\frac{1}{2} + \\sqrt{3}x^{2}")


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
