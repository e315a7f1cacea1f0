"""Prompt building: chat messages or a plain template, with the answer-format instruction."""

from __future__ import annotations

import pytest

from srpo.errors import InputError
from srpo.rollout.prompts import (
    CODE_INSTRUCTION,
    MATH_INSTRUCTION,
    R1_ZERO_TEMPLATE,
    ChatMessage,
    Prompt,
    PromptTemplate,
    build_prompt,
)


def test_chat_prompt_holds_the_question_and_the_boxed_instruction():
    prompt = build_prompt(question="What is {x}?", domain="math")
    assert prompt.is_chat and prompt.text is None
    assert prompt.messages == (ChatMessage("user", f"What is {{x}}?\n\n{MATH_INSTRUCTION}"),)


def test_system_prompt_comes_first():
    prompt = build_prompt(question="q", domain="math", template=PromptTemplate(system_prompt="Be brief."))
    assert [m.role for m in prompt.messages] == ["system", "user"]
    assert prompt.messages[0].content == "Be brief."


def test_plain_template_keeps_latex_braces():
    template = PromptTemplate(kind="plain", plain_template="Q: {prompt}\nA:")
    prompt = build_prompt(question="Simplify \\frac{a}{b}.", domain="math", template=template)
    assert prompt.text == f"Q: Simplify \\frac{{a}}{{b}}.\n\n{MATH_INSTRUCTION}\nA:"


def test_r1_zero_template_and_code_instruction():
    template = PromptTemplate(kind="plain", plain_template=R1_ZERO_TEMPLATE)
    prompt = build_prompt(
        question="Sum two ints.", domain="code", tests={"type": "stdio", "cases": []}, template=template
    )
    assert prompt.text.startswith("A conversation between User and Assistant.")
    assert "User: Sum two ints.\n\nYour program must read from standard input" in prompt.text
    assert CODE_INSTRUCTION in prompt.text and prompt.text.endswith("Assistant: <think>")


def test_templates_are_validated():
    with pytest.raises(InputError, match=r"prompt\.plain_template must contain"):
        PromptTemplate(kind="plain", plain_template="no field").validate()
    with pytest.raises(InputError, match="chat or plain"):
        PromptTemplate(kind="markdown").validate()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="either chat messages or text"):
        Prompt()
