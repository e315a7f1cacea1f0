"""The cleaning rules: what a rule-based reward cannot grade fairly, rejected with a dotted reason.

`rules()` lists them, `reasons_for(problem, config)` says which fire; each rule lives next to
its reason code in `math` or `code` (see `registry`).
"""

from srpo.curate.rules.registry import Rule, Subject, reasons_for, rule, rules

__all__ = ["Rule", "Subject", "reasons_for", "rule", "rules"]
