"""`just report-check`: build a report from a small catalog and a short training run, render it in
headless Chromium, and check it the way a person would see it.

Everything is made on the spot, offline, and goes through srpo's public commands:
1. a tiny model (built from a config, tokenizer trained on the fly) taught to answer small sums
   in a box, sometimes right and sometimes wrong, sometimes with a remark ("Let me recheck:",
   "Hmm, alternatively", a python block), and to answer a code task;
2. sources written as JSONL: sums (with a multiple-choice row, an unreadable line and a problem
   that leaks the benchmark), a copy with duplicates, code tasks with tests and reference
   solutions, and a benchmark;
3. `srpo-curate ingest` (four times, one `--benchmark`), `verify`, `difficulty --k 4`;
4. `srpo-train --from-catalog`: a few steps, stage 2 after half of them, responses stored;
5. `srpo-curate report --run RUN -o report.html`, and `-f png` into figures/;
6. headless Chromium (scripts/chromium_check.py): at least 8 figures, none blank, no console
   error, no request outside the file, a full-page screenshot.

Usage: python scripts/report_check.py [--output DIR] [--steps N]   (default build/report-check)
Prints `key: value` lines; exits 1 when a step or a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from chromium_check import check_report, report_findings  # the script folder is on sys.path

ROOT = Path(__file__).resolve().parents[1]
FARMER = (
    "A farmer has 17 cows and buys 25 more cows at the market on Tuesday morning, then sells 9 of "
    "them to a neighbour. How many cows does the farmer have now?"
)
# (a, b, how many of four taught answers are right): easy, medium and hard problems.
SUMS = ((1, 2, 4), (2, 3, 4), (3, 4, 2), (4, 1, 2), (2, 6, 1), (5, 3, 0))
# The four ways the model is taught to answer; the reasoning-behaviour figures count them.
STYLES = (
    "\\boxed{{{n}}}",
    "Let me recheck: \\boxed{{{n}}}",
    "Hmm, alternatively \\boxed{{{n}}}",
    "```python\nprint({a} + {b})\n```\n\\boxed{{{n}}}",
)
DOUBLE = "Read an integer n from standard input and print 2n."
DOUBLE_SOLUTION = "n = int(input())\nprint(n * 2)\n"


def say(key: str, value: object) -> None:
    print(f"{key}: {value}", flush=True)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def write_sources(root: Path) -> dict[str, Path]:
    sums = [
        {"id": f"s{i}", "question": f"What is {a} + {b}?", "answer": str(a + b)}
        for i, (a, b, _) in enumerate(SUMS)
    ]
    sums += [
        {"id": "mc", "question": "Which is larger?\n(A) 3\n(B) 5\n(C) 4\n(D) 1", "answer": "B"},
        {"id": "farmer", "question": FARMER, "answer": "33"},
        "{an unreadable line",
    ]
    copy = [
        {"id": "c0", "question": "What is 1 + 2?", "answer": "3"},
        {"id": "c1", "question": "What is 2 + 3?", "answer": "5"},
    ]
    code = [
        {
            "id": "double",
            "domain": "code",
            "question": DOUBLE,
            "solution": DOUBLE_SOLUTION,
            "tests": {
                "type": "stdio",
                "cases": [{"input": "3\n", "output": "6\n"}, {"input": "21\n", "output": "42\n"}],
            },
        },
        {
            "id": "hello",
            "domain": "code",
            "question": "Print hello.",
            "solution": "print('hello')\n",
            "tests": {"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]},
        },
    ]
    return {
        "sums": write_jsonl(root / "sums.jsonl", sums),
        "sums-copy": write_jsonl(root / "sums_copy.jsonl", copy),
        "programs": write_jsonl(root / "programs.jsonl", code),
        "bench": write_jsonl(root / "bench.jsonl", [{"id": "b0", "question": FARMER, "answer": "33"}]),
    }


def build_model(directory: Path) -> Path:
    """A tiny model that answers each sum in the four styles, right as often as SUMS says."""
    from transformers import AutoTokenizer

    from srpo.rollout.prompts import build_prompt
    from srpo.testing.tiny_model import TeachOptions, build_tiny_model, teach_tiny_model

    def chat(tokenizer, question: str, domain: str) -> str:
        messages = [m.as_dict() for m in build_prompt(question=question, domain=domain).messages]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    answers = [
        style.format(n=n, a=a, b=b) for a, b, _ in SUMS for n in (a + b, a + b + 1) for style in STYLES
    ]
    path = build_tiny_model(directory, extra_texts=[*answers, DOUBLE, DOUBLE_SOLUTION])
    tokenizer = AutoTokenizer.from_pretrained(path)
    pairs = []
    for a, b, right in SUMS:
        prompt = chat(tokenizer, f"What is {a} + {b}?", "math")
        for index, style in enumerate(STYLES):
            n = a + b if index < right else a + b + 1
            pairs.append((prompt, style.format(n=n, a=a, b=b)))
    code_prompt = chat(tokenizer, DOUBLE, "code")
    pairs += [(code_prompt, f"```python\n{DOUBLE_SOLUTION}```"), (code_prompt, "```python\nprint(n)\n```")]
    teach_tiny_model(path, pairs, TeachOptions(steps=300))
    return path


def run(*args: str, module: str = "srpo.cli.curate", timeout: float = 900) -> str:
    """Run an srpo command as a user would; stop the check with its stderr if it fails."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160"},
    )
    name = " ".join([module.rsplit(".", 1)[-1], args[0]])
    say(f"{name} seconds", f"{time.perf_counter() - started:.1f}")
    if result.returncode != 0:
        say(f"{name} failed", result.returncode)
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
        sys.exit(1)
    return result.stdout


def main() -> None:
    # One thread per process: the tiny models gain nothing from two, and on a busy machine
    # OpenMP's spinning threads made teaching 10x slower (measured: 10 s vs 128 s for 30 steps).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "report-check")
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    out = args.output.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.perf_counter()
    model = build_model(out / "model")
    say("model seconds", f"{time.perf_counter() - started:.1f}")
    sources = write_sources(out)
    catalog = str(out / "catalog.duckdb")
    common = ("--catalog", catalog)
    for name, path in sources.items():
        extra = ("--benchmark", "bench") if name == "bench" else ()
        run("ingest", str(path), "--source", name, *extra, "-q", *common)
    run("verify", "--workers", "1", *common)
    run(
        "difficulty",
        "--model",
        str(model),
        "--k",
        "4",
        "-q",
        "--set",
        "sampling.max_new_tokens=24",
        "--set",
        "grader.workers=1",
        *common,
    )
    settings = [
        f"budget.max_steps={args.steps}",
        f"stages.switch_after_steps={args.steps // 2}",
        "logging.store_responses=true",
        f"output_dir={out}/runs/{{run_id}}",
        "sampling.n=4",
        "data.prompts_per_step=3",
        "sampling.max_new_tokens=24",
        "grader.workers=1",
        "checkpoint.every_steps=0",
        "checkpoint.save_model=false",
        "seed=1",
        'data.difficulties=["easy","medium","hard"]',
        "optim.learning_rate=1e-4",
    ]
    run(
        "--from-catalog",
        catalog,
        "--model",
        str(model),
        "--run-id",
        "check",
        "-q",
        *(x for s in settings for x in ("--set", s)),
        module="srpo.cli.train",
    )
    say("report", run("report", "--run", "check", "-o", str(out / "report.html"), *common).strip())
    say("figures", run("report", "--run", "check", "-f", "png", "-o", str(out / "figures"), *common).strip())
    say("behaviour", "")
    print(run("query", "--behaviour", "check", *common), end="")
    findings = check_report(out / "report.html", screenshot=out / "report.png")
    ok = report_findings(findings, min_figures=8)
    say("total seconds", f"{time.perf_counter() - started:.0f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
