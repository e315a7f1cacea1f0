"""The base policy of the miniature SRPO experiment: a small model taught the arithmetic family.

A Qwen2-style model of about a million parameters (a tokenizer trained on the fly, digits kept
one per token) fitted by supervised fine-tuning (`sft`) in two phases: first the skill, every
problem with a worked answer (steps that slip now and then; code that computes), then the habit,
the same problems answered directly most of the time (`arithmetic`). Sampled at temperature 1
it mostly answers directly and is right when it can do the chain in its head: often on two
steps, seldom on four. Its worked answers are right more often, so a reward on the final answer
can teach it to show its working: the gain RL gave reasoning models, in miniature.

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
    """The base policy's shape and how it is taught."""

    model: TinyModelConfig = field(default_factory=_policy_shape)
    """Model shape; head size 64 (192 / 3 heads), digits one token each."""
    worked: SftOptions = field(default_factory=lambda: SftOptions(steps=700, learning_rate=3e-3))
    """First, the skill: every problem with a worked answer (math steps, code that computes)."""
    habit: SftOptions = field(
        default_factory=lambda: SftOptions(steps=60, learning_rate=1e-3, warmup_steps=5, seed=1)
    )
    """Then the habit: the same problems, a `direct_share` of them answered directly."""
    direct_share: float = 0.8
    """Share of the habit's answers that are direct (the value alone): what RL can teach away."""
    slip_rate: float = 0.05
    """Share of taught worked steps that slip by one (`arithmetic.Slips`)."""


def build_base_policy(
    directory: str | Path, problems: list[ArithmeticProblem], options: PolicyOptions | None = None
) -> dict[str, Any]:
    """Build the model and tokenizer in `directory`, teach it to work the problems out, then to
    mostly answer directly; returns a summary (parameters, pairs, losses), also written to
    `directory/teaching.json`."""
    from srpo.testing.arithmetic import taught_pairs
    from srpo.testing.sft import fine_tune
    from srpo.testing.tiny_model import build_tiny_model

    options = options or PolicyOptions()
    path = Path(directory)
    worked = taught_pairs(problems, direct_share=0.0, slip_rate=options.slip_rate)
    habit = taught_pairs(problems, direct_share=options.direct_share, slip_rate=options.slip_rate, seed=1)
    worked_pairs = [(prompt_for(p), answer) for p, answer in worked]
    habit_pairs = [(prompt_for(p), answer) for p, answer in habit]
    corpus = [(prompt.text or "") + answer for prompt, answer in worked_pairs[:2000]]
    build_tiny_model(path, options.model, extra_texts=corpus)
    skill = fine_tune(path, worked_pairs, options.worked) if options.worked.steps else []
    habits = fine_tune(path, habit_pairs, options.habit) if options.habit.steps else []
    summary = {
        "parameters": _parameters(path),
        "pairs": len(worked_pairs),
        "steps": options.worked.steps + options.habit.steps,
        "loss_worked": _tail_mean(skill),
        "loss_habit": _tail_mean(habits),
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
