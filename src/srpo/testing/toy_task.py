"""A toy task a tiny model learns with GRPO on CPU in minutes: single-digit sums in a box.

The problems are "What is a + b?" with a + b below 10; a response earns 1 only when srpo's real
math grader finds `\\boxed{a+b}` in it. A random tiny model never writes a box, so it first
gets a short supervised warm-up on a different task, subtraction ("What is 7 - 3?" ->
`\\boxed{4}`): it learns the answer format and to read the numbers of the question, and nothing
about sums (on them it is right about one time in twenty). GRPO then has to learn addition
from the reward alone.

(A warm-up on the sum questions themselves with random digits teaches the format too, but also
teaches the model to ignore the question: its answer distribution becomes the same for every
sum, and the reward can then only rise to the share of the most common answer.)

Used by `just demo-train` (scripts/demo_train.py) and the training benchmarks. Covers: the
problems, a catalog holding them, the warmed-up model, a config that fits the task, and an
accuracy check over all problems. Does not cover: training itself (`trainer`).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

from srpo.rollout.prompts import PromptStyle, PromptTemplate

if TYPE_CHECKING:
    from srpo.catalog import Catalog
    from srpo.train.config import TrainConfig

# A short plain prompt: the question and a newline; the answer is graded from the box.
TOY_PROMPT = PromptTemplate(kind="plain", plain_template="{prompt}\n", style=PromptStyle(math_instruction=""))


def sum_problems(limit: int = 10) -> list[tuple[str, str]]:
    """(question, answer) for every a + b < limit with 1 <= a, b."""
    return [(f"What is {a} + {b}?", str(a + b)) for a in range(1, limit) for b in range(1, limit - a)]


def write_toy_catalog(path: Path) -> Catalog:
    """A catalog holding the sum problems, kept and verified (the golds are right by construction)."""
    from srpo.catalog import Catalog
    from srpo.curate.ingest import IngestOptions, ingest

    source = path.parent / "toy_sums.jsonl"
    rows = [{"id": f"sum{i}", "question": q, "answer": a} for i, (q, a) in enumerate(sum_problems())]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    catalog = Catalog.open(path, create=True)
    ingest(catalog, IngestOptions(location=str(source), source="toy_sums"))
    with catalog.writer() as con:
        con.execute("UPDATE problems SET verify_status = 'verified' WHERE source = 'toy_sums'")
    return catalog


def build_toy_model(directory: Path, *, warmup_steps: int = 200, seed: int = 0) -> Path:
    """A random tiny model taught the answer format on subtraction (no sums)."""
    from srpo.testing.tiny_model import TeachOptions, TinyModelConfig, build_tiny_model, teach_tiny_model

    texts = [f"{q}\n\\boxed{{{a}}}" for q, a in sum_problems()]
    path = build_tiny_model(directory, TinyModelConfig(seed=seed), extra_texts=texts)
    pairs = [(f"What is {a} - {b}?\n", f"\\boxed{{{a - b}}}") for a in range(1, 10) for b in range(a)]
    random.Random(seed).shuffle(pairs)
    teach_tiny_model(path, pairs, TeachOptions(steps=warmup_steps, learning_rate=3e-3, seed=seed))
    return path


def accuracy(model_dir: Path, *, samples: int = 16, seed: int = 1) -> float:
    """The mean reward over every sum problem, `samples` sampled responses each."""
    from srpo.rollout import SamplingConfig, create_engine, engine_config
    from srpo.rollout.prompts import build_prompt
    from srpo.verify.grading import GradeItem, grade_batch

    problems = sum_problems()
    prompts = [build_prompt(question=q, domain="math", template=TOY_PROMPT) for q, _ in problems]
    with create_engine(engine_config("transformers", model=str(model_dir), device="cpu")) as engine:
        completions = engine.generate(prompts, SamplingConfig(n=samples, max_new_tokens=8, seed=seed))
    items = [
        GradeItem(response=sample.text, answer=answer)
        for (_, answer), completion in zip(problems, completions, strict=True)
        for sample in completion.samples
    ]
    grades = grade_batch(items, workers=1)
    return sum(grade.reward for grade in grades) / len(grades)


def toy_config(output_dir: Path, *overrides: str) -> TrainConfig:
    """Settings that make the toy task learnable in a couple of minutes on two CPU cores."""
    from dataclasses import replace

    from srpo.config import load_config
    from srpo.train.config import TrainConfig

    settings = [
        f"output_dir={output_dir}/{{run_id}}",
        "data.include_unrated=true",
        "sampling.n=8",
        "data.prompts_per_step=16",
        "sampling.max_new_tokens=8",
        "engine.batch_size=128",
        "optim.learning_rate=3e-4",
        "optim.weight_decay=0.0",
        "objective.micro_batch_size=128",
        "grader.workers=1",
        "checkpoint.every_steps=0",
        "checkpoint.save_model=false",
        "budget.max_steps=600",
        # The tiny model forgets sums it no longer trains on: solved ones come back after four
        # epochs, so the query re-checks them (and drops them again while they stay solved).
        "data.return_after_epochs=4",
        *overrides,
    ]
    config = load_config(TrainConfig, None, settings)
    return replace(config, prompt=TOY_PROMPT)
