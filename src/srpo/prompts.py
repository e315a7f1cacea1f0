"""How a catalog problem becomes the user message a model sees.

Shared by exports (curate) and rollout engines (train), so a problem is asked the same way
everywhere. Math asks for a `\\boxed{}` final answer; code asks for one fenced Python block and
says how the program is run (stdin/stdout, a named function, or a completion to be tested).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
CODE_INSTRUCTION = "Write your solution in Python 3 inside a single ```python code block."
STDIO_HINT = "Your program must read from standard input and write to standard output."


@dataclass(frozen=True, kw_only=True)
class PromptStyle:
    """Instructions appended to every question; empty strings leave the question as it is."""

    math_instruction: str = MATH_INSTRUCTION
    """Asks for a boxed final answer (the format the math grader extracts)."""
    code_instruction: str = CODE_INSTRUCTION
    """Asks for one fenced python block (the format the code grader extracts)."""


def code_hint(tests: Mapping[str, Any] | None, metadata: Mapping[str, Any] | None = None) -> str:
    if not tests:
        return ""
    kind = tests.get("type")
    if kind == "stdio":
        return STDIO_HINT
    if kind == "call":
        return f"Define a function named `{tests.get('fn_name')}`."
    if metadata and metadata.get("completion_style"):
        return "Complete the function above; include the full function definition in your answer."
    entry = (metadata or {}).get("entry_point") or tests.get("entry_point")
    return f"Your code must define `{entry}`." if entry and "(" not in str(entry) else ""


def user_prompt(
    *,
    question: str,
    domain: str,
    tests: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    style: PromptStyle | None = None,
) -> str:
    style = style or PromptStyle()
    if domain == "math":
        parts = [question, style.math_instruction]
    else:
        parts = [question, code_hint(tests, metadata), style.code_instruction]
    return "\n\n".join(part for part in parts if part)
