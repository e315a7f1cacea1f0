"""The rule registry: every cleaning rule, registered under its reason code next to its code.

A rule is a function of a `Subject` (the problem, the filter settings and, for code, facts
about its reference solution) that says whether its reason applies. `@rule("math.proof")`
registers it; a domain's rules run in the order their module defines them, and the first one
that fires is the problem's `reject_reason` (the others go to `metadata.also_rejected_by`).

Covers: registering rules. Does not cover: the rules themselves (`srpo.curate.rules.math`,
`srpo.curate.rules.code`), or listing and applying them (`srpo.curate.rules`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from srpo.catalog.records import Problem
    from srpo.curate.config import FilterConfig


@dataclass(frozen=True, slots=True)
class Subject:
    """What a rule sees."""

    problem: Problem
    config: FilterConfig
    facts: Any = None
    """Code only: `srpo.curate.rules.code.SolutionFacts` of the reference solution."""


@dataclass(frozen=True, slots=True)
class Rule:
    reason: str
    """The dotted reject reason, e.g. `math.proof`; its prefix is the domain the rule runs on."""
    applies: Callable[[Subject], bool]

    @property
    def domain(self) -> str:
        return self.reason.split(".", 1)[0]


RULES: list[Rule] = []
"""Every registered rule, in registration order (filled when `srpo.curate.rules` is imported)."""


def rule(reason: str) -> Callable[[Callable[[Subject], bool]], Callable[[Subject], bool]]:
    """Register the decorated function as the rule for `reason`."""

    def register(applies: Callable[[Subject], bool]) -> Callable[[Subject], bool]:
        if any(known.reason == reason for known in RULES):
            raise ValueError(f"cleaning rule {reason!r} is registered twice")
        RULES.append(Rule(reason, applies))
        return applies

    return register
