"""Turning a `Prompt` into the text and token ids a local model sees, the same way in every
backend that holds a tokenizer (transformers and vLLM), so both sample from identical inputs.

Covers: chat-template rendering, tokenisation, the end-of-turn tokens. Does not cover: what the
prompt says (`srpo.rollout.prompts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from srpo.errors import EngineError

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt


def render_prompt(tokenizer: Any, prompt: Prompt) -> tuple[str, list[int]]:
    """The prompt text and ids the model sees: chat messages through the tokenizer's template
    (its special tokens are already in the text), plain text tokenized as a tokenizer would."""
    if not prompt.is_chat:
        return prompt.text or "", tokenizer(prompt.text, add_special_tokens=True)["input_ids"]
    if not getattr(tokenizer, "chat_template", None):
        raise EngineError(
            "the model's tokenizer has no chat template: set prompt.kind=plain for a base model"
        )
    messages = [message.as_dict() for message in prompt.messages]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text, tokenizer(text, add_special_tokens=False)["input_ids"]


def eos_ids(generation_config: Any, tokenizer: Any) -> list[int]:
    """Every token id that ends a turn: the generation config's (an int or a list) and the
    tokenizer's own."""
    found = generation_config.eos_token_id if generation_config is not None else None
    ids = list(found) if isinstance(found, list | tuple) else ([found] if found is not None else [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    if not ids:
        raise EngineError("the model defines no end-of-sequence token; cannot tell when a response ends")
    return ids
