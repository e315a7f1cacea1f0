"""Adapters: one small module per public schema, and auto-detection among them.

`get_adapter(name)` returns one by name (or alias); `detect_adapter(rows, file_name)` picks the
best fit for a sample of rows and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from srpo.curate.adapters.base import Adapter, Draft
from srpo.errors import InputError

__all__ = ["Adapter", "Draft", "adapters", "detect_adapter", "get_adapter"]

ALIASES = {"codeforces": "codecontests", "amc": "aime", "hendrycks": "math", "prm800k": "math",
           "deepcoder": "codecontests", "verl": "deepscaler"}  # fmt: skip


@cache
def adapters() -> dict[str, Adapter]:
    from srpo.curate.adapters import (
        aime,
        codecontests,
        deepscaler,
        generic,
        gsm8k,
        humaneval,
        leetcode,
        math,
        mbpp,
    )

    found = [gsm8k.ADAPTER, math.MATH, math.MATH500, aime.ADAPTER, deepscaler.ADAPTER,
             humaneval.ADAPTER, mbpp.ADAPTER, codecontests.ADAPTER, leetcode.ADAPTER,
             generic.ADAPTER]  # fmt: skip
    return {adapter.name: adapter for adapter in found}


def adapter_names() -> list[str]:
    return [*adapters(), *ALIASES]


def get_adapter(name: str) -> Adapter:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in adapters():
        raise InputError(f"unknown adapter {name!r}; choose one of {', '.join(adapter_names())}")
    return adapters()[key]


def detect_adapter(rows: Sequence[Mapping[str, Any]], file_name: str) -> tuple[Adapter, str]:
    """The adapter that best fits `rows` (sampled from `file_name`), and a one-line reason."""
    if not rows:
        raise InputError(f"{file_name}: no readable rows to detect an adapter from; pass --adapter")
    scores = sorted(
        ((adapter.detect(rows, file_name), adapter.name) for adapter in adapters().values()),
        reverse=True,
    )
    best_score, best = scores[0]
    fields = sorted(set().union(*(set(row) for row in rows)))
    if best_score <= 0:
        raise InputError(
            f"{file_name}: no adapter fits fields {', '.join(fields[:12])}; "
            f"pass --adapter (one of {', '.join(adapters())})"
        )
    runner_up = next((name for score, name in scores[1:] if score > 0), None)
    reason = f"auto-detected from fields {', '.join(fields[:8])}" + (
        f" (next best: {runner_up})" if runner_up else ""
    )
    return adapters()[best], reason
