"""Difficulty throughput: sampling, grading and writing with the transformers engine on CPU.

A tiny Qwen2-style model is built and taught on the spot to answer `\\boxed{7}` (so every
response carries an answer the grader must extract and compare), then `run_difficulty` rates
problems with it on a fresh catalog: MATH-500 from ../shared/data when present (varied gold
answers, some needing sympy), else generated arithmetic. The engine is opened once, outside
the timings, as a long run amortises the model load.

Prints samples/s (end to end), generated samples/s and tokens/s (generation time only), graded
samples/s (grading time only), and the share of time spent generating, grading and writing.

Usage: just bench difficulty [--problems N] [--k K] [--model PATH] [--max-new-tokens N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, peak_rss_mib, report

TEACH_QUESTIONS = (
    "What is 3 + 4?",
    "Compute 10 - 3.",
    "Find x if x + 1 = 8.",
    "How many days are in a week?",
)


def taught_model(directory: Path) -> Path:
    from transformers import AutoTokenizer

    from srpo.rollout.prompts import build_prompt
    from srpo.testing.tiny_model import TeachOptions, build_tiny_model, teach_tiny_model

    path = build_tiny_model(directory)
    tokenizer = AutoTokenizer.from_pretrained(path)
    pairs = []
    for question in TEACH_QUESTIONS:
        messages = [m.as_dict() for m in build_prompt(question=question, domain="math").messages]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        pairs.append((text, "Let me think. The answer is \\boxed{7}."))
    teach_tiny_model(path, pairs, TeachOptions(steps=200))
    return path


def problems_file(directory: Path, count: int) -> tuple[Path, str]:
    import json

    math500 = SHARED_DATA / "math" / "math500_test.jsonl"
    if math500.is_file():
        return math500, "MATH-500 (shared data)"
    path = directory / "arithmetic.jsonl"
    with path.open("w") as handle:
        for i in range(count):
            handle.write(json.dumps({"question": f"What is {i} + 7?", "answer": str(i + 7)}) + "\n")
    return path, "generated arithmetic"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=96, help="problems to rate")
    parser.add_argument("--k", type=int, default=8, help="samples per problem")
    parser.add_argument("--model", type=Path, help="a local model (default: a taught tiny model)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16, help="problems per generate call")
    parser.add_argument("--engine-batch-size", type=int, default=64, help="sequences per generate call")
    parser.add_argument("--workers", type=int, default=2, help="grader workers")
    args = parser.parse_args()

    from srpo.catalog import Catalog
    from srpo.catalog.ratings import RateSelection
    from srpo.curate.difficulty import DifficultyConfig, run_difficulty
    from srpo.curate.ingest import IngestOptions, ingest
    from srpo.rollout import EngineConfig, SamplingConfig, create_engine
    from srpo.verify.config import GraderConfig

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        model = args.model or taught_model(directory / "model")
        report("model setup", time.perf_counter() - started, "s")
        source, described = problems_file(directory, args.problems)
        catalog = Catalog.open(directory / "bench.duckdb", create=True)
        ingest(catalog, IngestOptions(location=str(source), source="bench"))
        config = EngineConfig(model=str(model), device="cpu", batch_size=args.engine_batch_size)
        options = DifficultyConfig(
            engine=config, sampling=SamplingConfig(n=args.k, max_new_tokens=args.max_new_tokens),
            selection=RateSelection(include_pending=True), batch_size=args.batch_size,
            grader=GraderConfig(workers=args.workers),
        )  # fmt: skip
        with create_engine(config) as engine:
            started = time.perf_counter()
            result = run_difficulty(catalog, options, limit=args.problems, engine=engine)
            wall = time.perf_counter() - started

    busy = result.generate_s + result.grade_s + result.write_s
    print(f"problems: {described}, {result.problems + result.unrated} rated, k={args.k}")
    report("samples", result.samples)
    report("response tokens per sample", result.response_tokens / max(result.samples, 1), "tokens")
    report("correct share", result.correct / max(result.samples, 1))
    report("samples/s end to end", result.samples / wall, "samples/s")
    report("generated samples/s", result.samples / result.generate_s, "samples/s")
    report("generated tokens/s", result.response_tokens / result.generate_s, "tokens/s")
    report("graded samples/s", result.samples / result.grade_s, "samples/s")
    report("time generating", 100 * result.generate_s / busy, "%")
    report("time grading", 100 * result.grade_s / busy, "%")
    report("time writing", 100 * result.write_s / busy, "%")
    report("wall", wall, "s")
    report("peak rss", peak_rss_mib(), "MiB")


if __name__ == "__main__":
    main()
