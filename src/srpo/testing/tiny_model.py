"""Tiny causal language models built on the spot, for tests, benchmarks and demos, fully offline.

`build_tiny_model(directory)` writes a randomly initialised Qwen2-style model and a byte-level
BPE tokenizer trained on the fly (with a ChatML chat template) to a folder that
`transformers.AutoModelForCausalLM` and vLLM both load. The head size is 64 because vLLM's CPU
attention kernels accept only a few head sizes. `teach_tiny_model` fits such a model for a few
hundred steps on (prompt, completion) pairs, so a test or benchmark gets a model whose answers
are predictable (for example `\\boxed{7}` for one question and a coin flip for another) while
still going through a real model and a real engine.

Covers: building, saving and briefly fitting tiny models. Does not cover: real training (GRPO
lives elsewhere in `train`), or downloading anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BOS = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = (BOS, IM_START, IM_END)

# ChatML, as Qwen models use it; the generation prompt opens the assistant turn.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Text the tokenizer is trained on: enough English, digits and LaTeX that every prompt srpo
# builds splits into sensible pieces; any other byte still encodes (byte-level BPE).
_CORPUS = (
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "Write your solution in Python 3 inside a single ```python code block.",
    "Your program must read from standard input and write to standard output.",
    "What is 3 + 4? What is 12 times 7? Compute the sum of the first ten positive integers.",
    "The answer is \\boxed{7}. The answer is \\boxed{8}. \\frac{1}{2} \\sqrt{2} x^2 + y^2 = 1",
    "def solve():\n    n = int(input())\n    print(n * 2)\n",
    "system user assistant Question: Answer: Let us think. Therefore the final answer is",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 25 42 100 1000",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z A B C D E F G H I J K L M N O P Q R S T U V W X Y Z",
)


@dataclass(frozen=True, kw_only=True)
class TinyModelConfig:
    """Shape of the tiny model; the defaults make a ~0.2M-parameter model that loads in a second."""

    vocab_size: int = 512
    """Target vocabulary of the BPE tokenizer (the model's embedding matches what it reaches)."""
    hidden_size: int = 128
    """Model width; with `num_attention_heads` it sets the head size (keep it 64 for vLLM on CPU)."""
    num_attention_heads: int = 2
    """Query heads."""
    num_key_value_heads: int = 1
    """Key/value heads (grouped-query attention as in Qwen2)."""
    num_hidden_layers: int = 2
    """Transformer blocks."""
    intermediate_size: int = 256
    """Width of the MLP."""
    max_position_embeddings: int = 2048
    """Longest sequence (prompt plus response) the model accepts."""
    seed: int = 0
    """Seed for the random weights, so two builds with the same config are identical."""
    split_digits: bool = False
    """Tokenize every digit on its own (as Llama and Qwen do): arithmetic is learnt digit by
    digit instead of through merged number tokens."""


def train_tokenizer(vocab_size: int, extra_texts: Sequence[str] = (), *, split_digits: bool = False):
    """A byte-level BPE tokenizer trained on a built-in corpus plus `extra_texts`; with
    `split_digits`, digits are never merged into longer tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    if split_digits:
        digits = pre_tokenizers.Digits(individual_digits=True)
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([digits, byte_level])
    else:
        tokenizer.pre_tokenizer = byte_level
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator([*_CORPUS, *extra_texts], trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=BOS, eos_token=IM_END, pad_token=BOS, unk_token=None
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def build_tiny_model(
    directory: str | Path, config: TinyModelConfig | None = None, *, extra_texts: Sequence[str] = ()
) -> Path:
    """Write a random Qwen2-style model and its tokenizer to `directory`; returns the path."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = config or TinyModelConfig()
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(config.vocab_size, extra_texts, split_digits=config.split_digits)
    model_config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_key_value_heads,
        head_dim=config.hidden_size // config.num_attention_heads,
        max_position_embeddings=config.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        torch_dtype="float32",
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = Qwen2ForCausalLM(model_config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@dataclass(frozen=True, kw_only=True)
class TeachOptions:
    """How long and how hard `teach_tiny_model` fits the pairs."""

    steps: int = 300
    """Optimiser steps (full batch: every pair in every step)."""
    learning_rate: float = 3e-3
    """AdamW learning rate; tiny models take large steps."""
    seed: int = 0
    """Seed for the optimisation (dropout is off, so this only matters for ties)."""


def teach_tiny_model(
    directory: str | Path, pairs: Sequence[tuple[str, str]], options: TeachOptions | None = None
) -> float:
    """Fit the model in `directory` on (rendered prompt, completion) pairs and save it in place.

    The loss covers the completion tokens and the end-of-turn token only, so the model learns
    what to answer after each prompt and when to stop. Repeating a prompt with different
    completions teaches a distribution (two completions, once each: about one half each).
    Returns the final mean loss.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = options or TeachOptions()
    path = Path(directory)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    input_ids, labels, attention = _teaching_batch(tokenizer, pairs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        optimiser = torch.optim.AdamW(model.parameters(), lr=options.learning_rate, weight_decay=0.0)
        model.train()
        loss = torch.tensor(float("nan"))
        for _ in range(options.steps):
            loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    model.save_pretrained(path)
    return float(loss.detach())


def _teaching_batch(tokenizer, pairs: Sequence[tuple[str, str]]):
    """Right-padded ids, labels masked to the completion, and the attention mask."""
    import torch

    rows = []
    for prompt, completion in pairs:
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        completion_ids = [*completion_ids, tokenizer.eos_token_id]
        rows.append((prompt_ids + completion_ids, [-100] * len(prompt_ids) + completion_ids))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in rows])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows])
    attention = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows])
    return input_ids, labels, attention
