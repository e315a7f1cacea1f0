"""The module a grader worker process starts from.

This is the one srpo module that does work at import time, on purpose: the pool's forkserver
imports it once, so sympy, math-verify's LaTeX parser and its ANTLR tables are loaded and warm
in every worker forked from it (a replaced worker starts in milliseconds). Only the forkserver
imports it; the parent process and `srpo-curate --help` never do.

Covers: preloading. Does not cover: the task functions (see `tasks`).
"""

from __future__ import annotations

import contextlib

import sympy  # noqa: F401 - loaded here so that forked workers share it

from srpo.verify.math import symbolic, tasks  # noqa: F401 - tasks: unpickled in every worker

# Warm the parser and sympy's caches once, in the forkserver; a broken parser shows up later.
with contextlib.suppress(symbolic.Unparseable):
    symbolic.parse_latex("\\frac{1}{2} + \\sqrt{3}x^{2}")
