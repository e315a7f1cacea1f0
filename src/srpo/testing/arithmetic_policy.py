"""The base policy of the miniature SRPO experiment: a small model taught the arithmetic family.

A Qwen2-style model of about a million parameters (a tokenizer trained on the fly, digits kept
one per token) fitted by supervised fine-tuning on worked answers (`arithmetic`): first a drill
on the short problems (cheap, and where the arithmetic facts are learnt fastest), then every
kind, just long enough to get the format and most single steps right, so that sampled at temperature 1 it
solves one-step problems nearly always, longer chains sometimes and two-digit products never.
RL then has something to sharpen.

The prompt is plain text, the question and a newline, with no instruction appended
(`PROMPT` for code, `PROMPT_SETTINGS` for `--set` / config files): `srpo-curate difficulty` and
`srpo-train` must ask exactly what the policy was taught on.

Covers: the prompt, the model's shape, building and teaching it. Does not cover: the problems
(`arithmetic`), the fitting loop (`sft`), RL (`srpo.train`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.rollout.prompts import PromptStyle, PromptTemplate, build_prompt
from srpo.testing.sft import SftOptions
from srpo.testing.tiny_model import TinyModelConfig

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt
    from srpo.testing.arithmetic import ArithmeticProblem

PROMPT = PromptTemplate(kind="plain", style=PromptStyle(math_instruction="", code_instruction=""))
# The same template as settings of the `prompt` section (srpo-curate difficulty, srpo-train).
PROMPT_SETTINGS: dict[str, Any] = {
    "kind": "plain",
    "plain_template": PROMPT.plain_template,
    "style": {"math_instruction": "", "code_instruction": ""},
}


def prompt_for(problem: ArithmeticProblem) -> Prompt:
    """The prompt the engines build for the problem's catalog row."""
    row = problem.row("")
    tests = row.get("tests")
    return build_prompt(question=problem.question, domain=problem.domain, tests=tests, template=PROMPT)


def _policy_shape() -> TinyModelConfig:
    return TinyModelConfig(
        vocab_size=384,
        hidden_size=192,
        num_attention_heads=3,
        num_key_value_heads=1,
        num_hidden_layers=3,
        intermediate_size=512,
        max_position_embeddings=256,
        split_digits=True,
    )


@dataclass(frozen=True, kw_only=True)
class PolicyOptions:
    """The base policy's shape and how long it is taught."""

    model: TinyModelConfig = field(default_factory=_policy_shape)
    """Model shape; head size 64 (192 / 3 heads), digits one token each."""
    drill: SftOptions = field(default_factory=lambda: SftOptions(steps=0, learning_rate=3e-3))
    """First, short answers only: the facts (`arithmetic.facts`) and the problems of
    `drill_kinds` (steps=0, the default, skips it: chains teach the facts as fast)."""
    drill_kinds: tuple[str, ...] = ("sum_2",)
    """Problem kinds (math, from the taught problems) in the drill."""
    sft: SftOptions = field(default_factory=lambda: SftOptions(steps=800, learning_rate=3e-3))
    """Then every taught problem, math and code."""
    by_hand_share: float = 0.5
    """Share of code problems taught the by-hand way (steps in a comment, the value printed)."""
    slip_rate: float = 0.1
    """Share of taught steps that slip by one (`arithmetic.Slips`): what RL can teach away."""


def build_base_policy(
    directory: str | Path, problems: list[ArithmeticProblem], options: PolicyOptions | None = None
) -> dict[str, Any]:
    """Build the model and tokenizer in `directory`, teach it the facts, then `problems`;
    returns a summary (parameters, pairs, losses), also written to `directory/teaching.json`."""
    from srpo.testing.arithmetic import facts, taught_pairs
    from srpo.testing.sft import fine_tune
    from srpo.testing.tiny_model import build_tiny_model

    options = options or PolicyOptions()
    path = Path(directory)
    known = [(prompt_for(p), p.worked_answer()) for p in facts()]
    taught = taught_pairs(problems, by_hand_share=options.by_hand_share, slip_rate=options.slip_rate)
    pairs = [(prompt_for(p), answer) for p, answer in taught]
    short = [p for p in problems if p.domain == "math" and p.kind in options.drill_kinds]
    drill = known + [(prompt_for(p), p.worked_answer()) for p in short]
    corpus = [(prompt.text or "") + answer for prompt, answer in pairs[:2000]]
    build_tiny_model(path, options.model, extra_texts=corpus)
    drilled = fine_tune(path, drill, options.drill) if options.drill.steps else []
    losses = fine_tune(path, pairs, options.sft) if options.sft.steps else []
    summary = {
        "parameters": _parameters(path),
        "drill": len(drill),
        "pairs": len(pairs),
        "steps": options.drill.steps + options.sft.steps,
        "loss_facts": _tail_mean(drilled),
        "loss_last": _tail_mean(losses),
    }
    (path / "teaching.json").write_text(json.dumps(summary, indent=2))
    return summary


def _tail_mean(losses: list[float]) -> float | None:
    return sum(losses[-10:]) / len(losses[-10:]) if losses else None


def _parameters(path: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(path / "model.safetensors"), framework="pt") as tensors:
        names = list(tensors.keys())
        return sum(math.prod(tensors.get_slice(name).get_shape()) for name in names)
