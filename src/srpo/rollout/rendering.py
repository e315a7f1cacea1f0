"""Turning a `Prompt` into the text and token ids a local model sees, the same way in every
backend that holds a tokenizer (transformers and vLLM), so both sample from identical inputs.

Covers: chat-template rendering, tokenisation, the end-of-turn tokens, and the check a command
runs before any other work that the model's tokenizer can render its prompts. Does not cover:
what the prompt says (`srpo.rollout.prompts`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.errors import EngineError, InputError

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt


def render_prompt(tokenizer: Any, prompt: Prompt) -> tuple[str, list[int]]:
    """The prompt text and ids the model sees: chat messages through the tokenizer's template
    (its special tokens are already in the text), plain text tokenized as a tokenizer would."""
    if not prompt.is_chat:
        return prompt.text or "", tokenizer(prompt.text, add_special_tokens=True)["input_ids"]
    require_chat_template(tokenizer)
    messages = [message.as_dict() for message in prompt.messages]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text, tokenizer(text, add_special_tokens=False)["input_ids"]


def require_chat_template(tokenizer: Any, model: str | None = None) -> None:
    """Chat prompts need the tokenizer's chat template; a base model's tokenizer has none."""
    if not getattr(tokenizer, "chat_template", None):
        whose = f"--model {model}: the tokenizer" if model else "the model's tokenizer"
        raise EngineError(
            f"{whose} has no chat template, and prompt.kind is chat: "
            "pass --set prompt.kind=plain for a base model"
        )


def check_tokenizer(model: str, *, prompt_kind: str, trust_remote_code: bool = False) -> None:
    """Before any data is read: the model's tokenizer loads, and has a chat template if the
    prompts are chat messages. A path that does not exist is named as such (not as a hub id)."""
    looks_local = model.startswith((".", "/", "~")) or model.count("/") > 1  # a hub id is org/name
    if looks_local and not Path(model).expanduser().exists():
        raise InputError(f"--model {model}: no such folder")
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
    except Exception as error:  # transformers raises OSError, ValueError, ... for a bad model
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise EngineError(f"--model {model}: cannot load its tokenizer: {first[:200]}") from error
    if prompt_kind == "chat":
        require_chat_template(tokenizer, model)


def eos_ids(generation_config: Any, tokenizer: Any) -> list[int]:
    """Every token id that ends a turn: the generation config's (an int or a list) and the
    tokenizer's own."""
    found = generation_config.eos_token_id if generation_config is not None else None
    ids = list(found) if isinstance(found, list | tuple) else ([found] if found is not None else [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    if not ids:
        raise EngineError(
            "the model defines no end-of-sequence token (engine.model): cannot tell when a response ends"
        )
    return ids
