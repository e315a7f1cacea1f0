"""The report's settings: `ReportConfig`, read by `srpo-curate report` and by
`srpo-curate query --behaviour` (`--config FILE`, `--set behaviour.hesitation=['\\bwait\\b']`).

The one section, `behaviour`, holds the pattern lists of the reasoning-behaviour analysis (the
SRPO report, Kwaipilot 2025, follows the share of responses that recheck, hesitate or explore,
and of math responses that write code to check themselves) and the window they are counted in.
Patterns are RE2 regular expressions (DuckDB's `regexp_matches`: no look-around, no
back-references), matched case-insensitively anywhere in a stored response; a response shows a
behaviour when any pattern of its list matches. An empty list leaves that behaviour out.

Covers: the settings and their documented defaults. Does not cover: the matching (`behaviour`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from srpo.errors import InputError

# An apostrophe, straight or typographic ("let's", "let’s").
_APOS = "['’]"

RECHECK = (
    r"\bre-?check",
    r"\bdouble[- ]check",
    r"\bverif(?:y|ies|ying|ication)\b",
    r"\bre-?(?:examin|evaluat|visit)",
    rf"\blet(?: me|{_APOS}s| us) (?:check|confirm)\b",
    r"\bcheck(?:ing)? (?:again|my|our|the (?:answer|result|calculation))\b",
)
HESITATION = (
    r"\bwait\b",
    r"\bhmm+\b",
    r"\bhold on\b",
    r"\bhang on\b",
    rf"\bi(?:{_APOS}m| am) not (?:sure|certain)\b",
    r"\bon second thought\b",
    rf"\bthat can(?:not|{_APOS}t) be right\b",
)
EXPLORATION = (
    r"\balternatively\b",
    r"\banother (?:way|approach|method|idea)\b",
    r"\ba different (?:way|approach|method)\b",
    rf"\blet(?: me|{_APOS}s| us) try\b",
    r"\bwhat if\b",
    r"\bon the other hand\b",
)
CODE_CHECK = (
    r"```\s*(?:python|py)\b",
    r"```\s*\n\s*(?:import \w|from \w+ import|def \w+\(|print\()",
)


@dataclass(frozen=True, kw_only=True)
class BehaviourConfig:
    """Which words mark each reflective behaviour, and the window shares are counted over."""

    recheck: tuple[str, ...] = RECHECK
    """Going back over work done: "Let me recheck: 3 + 4 = 7.", "Double-check the sign.",
    "To verify, substitute x = 2.", "Re-examining step 2...", "Let's confirm the total."."""
    hesitation: tuple[str, ...] = HESITATION
    """Doubting a step: "Wait, that is 12, not 13.", "Hmm, the units differ.", "Hold on.",
    "I'm not sure this holds.", "On second thought...", "That can't be right."."""
    exploration: tuple[str, ...] = EXPLORATION
    """Trying another route: "Alternatively, factor first.", "Another approach: ...",
    "Let me try small cases.", "What if n is odd?", "On the other hand...". """
    code_check: tuple[str, ...] = CODE_CHECK
    """Math responses only: code written to check the answer, a fenced ```python block or a
    fenced block that starts with an import, a def or a print (the SRPO report saw its model
    start doing this on its own)."""
    window_steps: int | None = None
    """Count shares per epoch (null, the default) or per window of this many training steps."""

    def validate(self) -> None:
        if self.window_steps is not None and self.window_steps < 1:
            raise InputError(
                f"behaviour.window_steps must be at least 1 (or null: per epoch), got {self.window_steps}"
            )

    def patterns(self) -> dict[str, tuple[str, ...]]:
        """Behaviour name -> its patterns, in the order the report shows them (empty lists left out)."""
        named = {
            "recheck": self.recheck,
            "hesitation": self.hesitation,
            "exploration": self.exploration,
            "code_check": self.code_check,
        }
        return {name: patterns for name, patterns in named.items() if patterns}


# Behaviours counted over math responses only (the others over every stored response).
MATH_ONLY = frozenset({"code_check"})


@dataclass(frozen=True, kw_only=True)
class ReportConfig:
    """Settings of `srpo-curate report` and `query --behaviour`."""

    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    """The reasoning-behaviour analysis over stored responses (logging.store_responses)."""
