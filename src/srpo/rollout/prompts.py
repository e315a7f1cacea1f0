"""How a catalog problem becomes the prompt a model sees.

Shared by exports (curate) and rollout engines (train), so a problem is asked the same way
everywhere. Math asks for a `\\boxed{}` final answer; code asks for one fenced Python block and
says how the program is run (stdin/stdout, a named function, or a completion to be tested).

`build_prompt` wraps that user message in a `PromptTemplate`: as chat messages (the engine
applies the model's own chat template) or as plain text through a format string (for base
models, e.g. the R1-Zero template SRPO trains with). Rendering chat messages needs the model's
tokenizer, so it happens in the engines, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
CODE_INSTRUCTION = "Write your solution in Python 3 inside a single ```python code block."
STDIO_HINT = "Your program must read from standard input and write to standard output."
# The template of DeepSeek-R1-Zero and SRPO for base models ({prompt} is the user message).
R1_ZERO_TEMPLATE = (
    "A conversation between User and Assistant. The User asks a question, and the Assistant solves it. "
    "The Assistant first thinks about the reasoning process in the mind and then provides the User "
    "with the answer. The reasoning process is enclosed within <think> </think> and the answer is "
    "enclosed within <answer> </answer> tags, respectively, i.e., <think> reasoning process here "
    "</think> <answer> answer here </answer>. User: {prompt} Assistant: <think>"
)
PLAIN_TEMPLATE = "{prompt}\n"


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


# ---------------------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class Prompt:
    """What an engine is asked to continue: chat messages, or text used exactly as given."""

    messages: tuple[ChatMessage, ...] = ()
    """Rendered by the engine with the model's chat template (generation prompt added)."""
    text: str | None = None
    """Sent as is, with no template (set exactly one of `messages` and `text`)."""

    def __post_init__(self) -> None:
        if bool(self.messages) == (self.text is not None):
            raise ValueError("a Prompt holds either chat messages or text, not both or neither")

    @property
    def is_chat(self) -> bool:
        return bool(self.messages)


@dataclass(frozen=True, kw_only=True)
class PromptTemplate:
    """How the user message is wrapped before it reaches the model."""

    kind: Literal["chat", "plain"] = "chat"
    """`chat`: messages rendered with the tokenizer's chat template (instruct models);
    `plain`: `plain_template` filled in and sent as raw text (base models)."""
    system_prompt: str | None = None
    """Chat only: a system message placed before the user message."""
    plain_template: str = PLAIN_TEMPLATE
    """Plain only: a format string with one `{prompt}` field; `r1-zero` names `R1_ZERO_TEMPLATE`
    (DeepSeek-R1-Zero's and SRPO's template for base models)."""
    style: PromptStyle = field(default_factory=PromptStyle)
    """The instructions appended to the question (boxed answer, fenced python block)."""

    def validate(self) -> None:
        from srpo.errors import InputError

        if self.kind not in ("chat", "plain"):
            raise InputError(f"prompt.kind must be chat or plain, got {self.kind!r}")
        if self.kind == "plain" and "{prompt}" not in self.template_text():
            raise InputError("prompt.plain_template must contain {prompt}")

    def template_text(self) -> str:
        return R1_ZERO_TEMPLATE if self.plain_template == "r1-zero" else self.plain_template


def build_prompt(
    *,
    question: str,
    domain: str,
    tests: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    template: PromptTemplate | None = None,
) -> Prompt:
    """The prompt for one problem under `template`."""
    template = template or PromptTemplate()
    message = user_prompt(
        question=question, domain=domain, tests=tests, metadata=metadata, style=template.style
    )
    if template.kind == "plain":
        # str.replace, not str.format: questions are full of LaTeX braces.
        return Prompt(text=template.template_text().replace("{prompt}", message))
    system = (ChatMessage("system", template.system_prompt),) if template.system_prompt else ()
    return Prompt(messages=(*system, ChatMessage("user", message)))
