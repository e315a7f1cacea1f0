"""Tiny models for the engine and difficulty tests, built and taught on the spot (no downloads).

`taught` answers `\\boxed{7}` to every question except the coin question, where it answers 7 or 8
about half the time each: with gold answers of 7, 8 and the coin, a catalog gets easy, hard and
medium problems from a real model and a real engine.
"""

from __future__ import annotations

from pathlib import Path

SEVEN_QUESTIONS = ("What is 3 + 4?", "What is 10 - 3?", "What is 14 / 2?", "What is 1 + 6?")
EIGHT_QUESTIONS = ("What is 4 + 4?", "What is 2 * 4?")
COIN_QUESTION = "Flip a coin and answer 7 or 8."
SEVEN = "The answer is \\boxed{7}."
EIGHT = "The answer is \\boxed{8}."
# Problems the taught model is predictable on (generic rows): the seven questions it always
# solves, the eight questions it never does, the coin it solves about half the time, and a code
# task it cannot do.
TAUGHT_ROWS = [
    *({"id": f"seven{i}", "question": q, "answer": "7"} for i, q in enumerate(SEVEN_QUESTIONS)),
    *({"id": f"eight{i}", "question": q, "answer": "8"} for i, q in enumerate(EIGHT_QUESTIONS)),
    {"id": "coin", "question": COIN_QUESTION, "answer": "7"},
    {"id": "code", "domain": "code", "question": "Print hello.",
     "tests": {"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]}},
]  # fmt: skip


def chat_text(model_dir: Path, question: str, domain: str = "math") -> str:
    from transformers import AutoTokenizer

    from srpo.rollout.prompts import build_prompt

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompt = build_prompt(question=question, domain=domain)
    messages = [message.as_dict() for message in prompt.messages]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def build_random(directory: Path) -> Path:
    from srpo.testing.tiny_model import build_tiny_model

    return build_tiny_model(directory)


def build_taught(directory: Path) -> Path:
    from srpo.testing.tiny_model import TeachOptions, build_tiny_model, teach_tiny_model

    path = build_tiny_model(directory)
    pairs = [(chat_text(path, q), SEVEN) for q in (*SEVEN_QUESTIONS, *EIGHT_QUESTIONS)]
    coin = chat_text(path, COIN_QUESTION)
    pairs += [(coin, SEVEN), (coin, EIGHT)]
    teach_tiny_model(path, pairs, TeachOptions(steps=250))
    return path
