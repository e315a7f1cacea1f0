"""The cleaning rules: what a rule-based reward cannot grade fairly, rejected with a dotted reason.

`rules()` lists them, `reasons_for(problem, config)` says which fire. Each rule lives next to its
reason code in `math` or `code` (registered with `registry.rule`); importing this package
registers them all, math first, each domain in the order its module defines its rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from srpo.curate.rules import code, math  # noqa: F401 - importing them registers their rules
from srpo.curate.rules.registry import RULES, Rule, Subject, rule

if TYPE_CHECKING:
    from srpo.catalog.records import Problem
    from srpo.curate.config import FilterConfig

__all__ = ["Rule", "Subject", "reasons_for", "rule", "rules"]


def rules(domain: str | None = None) -> tuple[Rule, ...]:
    """The registered rules (of one domain), in the order they run."""
    return tuple(r for r in RULES if domain is None or r.domain == domain)


def reasons_for(problem: Problem, config: FilterConfig) -> list[str]:
    """Every rule that fires on a problem, in order (the first one is its reject reason)."""
    facts = code.solution_facts(problem.solution) if problem.domain == "code" else None
    subject = Subject(problem, config, facts)
    return [r.reason for r in rules(problem.domain) if r.applies(subject)]
