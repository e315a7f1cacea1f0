"""`just demo`'s model: a tiny Qwen2-style model built on the spot (offline), taught a little.

Reads math problems as `srpo-curate query -f jsonl` writes them (problem_id, question, answer)
and writes a model folder that `srpo-curate difficulty` and `srpo-train` load. A random tiny
model solves nothing, so every rating would be "hard"; this one is first taught (a few seconds
of supervised fitting) to answer a third of the problems correctly and a third with a coin flip
between the right answer and a wrong one, and not taught the rest. Its ratings then spread over
easy, medium and hard, and history resampling has solved problems to drop. It has learned these
answers by heart: the demo shows the chain, not a model that can do maths.

Usage: python scripts/demo_model.py PROBLEMS.jsonl MODEL_DIR
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def chat_text(tokenizer, question: str) -> str:
    """The prompt exactly as `srpo-curate difficulty` and `srpo-train` render it (chat template)."""
    from srpo.rollout.prompts import build_prompt

    messages = [m.as_dict() for m in build_prompt(question=question, domain="math").messages]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def wrong(answer: str) -> str:
    return "0" if answer.strip() != "0" else "1"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("problems", type=Path, help="JSONL with question and answer per line")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--steps", type=int, default=120, help="fitting steps (full batch)")
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer

    from srpo.testing.tiny_model import TeachOptions, build_tiny_model, teach_tiny_model

    started = time.perf_counter()
    # A batch this small runs no faster on more threads, and on a busy machine they spin.
    torch.set_num_threads(1)
    lines = args.problems.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    rows.sort(key=lambda row: row["problem_id"])  # the same thirds on every run
    texts = [f"{row['question']} The answer is \\boxed{{{row['answer']}}}." for row in rows]
    path = build_tiny_model(args.model_dir, extra_texts=texts)
    tokenizer = AutoTokenizer.from_pretrained(path)
    pairs: list[tuple[str, str]] = []
    for index, row in enumerate(rows):
        prompt, right = chat_text(tokenizer, row["question"]), f"The answer is \\boxed{{{row['answer']}}}."
        if index % 3 == 0:
            pairs.append((prompt, right))
        elif index % 6 == 1:  # half right, half wrong: a medium problem
            pairs += [(prompt, right), (prompt, f"The answer is \\boxed{{{wrong(row['answer'])}}}.")]
    loss = teach_tiny_model(path, pairs, TeachOptions(steps=args.steps))
    taught = len({prompt for prompt, _ in pairs})
    print(
        f"demo model: {path} (taught {taught} of {len(rows)} problems, final loss {loss:.3f}, "
        f"{time.perf_counter() - started:.0f} s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
