"""Time per GRPO step: srpo's trainer and TRL's GRPOTrainer on the same tiny model, on CPU.

Both sample `--group-size` responses for each of `--prompts` problems per step (the toy sums of
`srpo.testing.toy_task`, the same plain prompts), at most `--max-new-tokens` tokens, grade them with the
same reward (srpo's Grader), and make one optimiser step of AdamW: no KL term (beta 0), the
token-mean loss (TRL's `dapo`, srpo's `token`), std-scaled group advantages, clip 0.2/0.28, the
whole batch in one forward/backward. The model is a random tiny Qwen2 (build_tiny_model), so
nearly every response runs to the length limit in both; the mean lengths are printed.

A step is timed from the end of one step to the end of the next (generation, rewards, the
update, logging and srpo's catalog writes all included); the first `--warmup` steps are left out.
srpo runs its default path: DeepSpeed ZeRO-2 on one gloo process, the transformers engine on
the live policy. TRL runs on accelerate without DeepSpeed (its CPU default).

The two run in alternating rounds after a warm-up round (`_common.compare`): a round is one
whole training run of each side (a fresh folder, the same model), its figure the run's median
step time. Prints `key: value` lines; the last is `ratio train_step:` the median over rounds of
TRL time / srpo time (higher is better for srpo). Usage: just bench train_step [--steps N]
[--prompts N] [--group-size N] [--rounds N] [--warmup-rounds N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Side, compare, report


def step_times(stamps: list[float], warmup: int) -> list[float]:
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    return gaps[warmup:] or gaps


def run_srpo(args: argparse.Namespace, model: Path, root: Path) -> tuple[list[float], float]:
    from srpo.testing.toy_task import toy_config, write_toy_catalog
    from srpo.train.trainer import train

    catalog = write_toy_catalog(root / "toy.duckdb")
    batch = args.prompts * args.group_size
    config = toy_config(
        root / "srpo",
        f"budget.max_steps={args.steps + args.warmup + 1}",
        f"data.prompts_per_step={args.prompts}",
        f"sampling.n={args.group_size}",
        f"sampling.max_new_tokens={args.max_new_tokens}",
        f"engine.batch_size={batch}",
        f"objective.micro_batch_size={batch}",
        "optim.learning_rate=1e-6",
        "data.drop_solved=false",
    )
    stamps: list[float] = []
    lengths: list[float] = []

    def on_step(metrics: dict) -> None:
        stamps.append(time.perf_counter())
        lengths.append(metrics["response_length/mean"])

    train(catalog, str(model), config, run_id="bench", on_step=on_step)
    return step_times(stamps, args.warmup), statistics.fmean(lengths)


def run_trl(args: argparse.Namespace, model: Path, root: Path) -> tuple[list[float], float]:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from srpo.rollout.prompts import build_prompt
    from srpo.testing.toy_task import TOY_PROMPT, sum_problems
    from srpo.verify.config import GraderConfig
    from srpo.verify.grading import GradeItem, Grader

    problems = sum_problems()
    prompts = [build_prompt(question=q, domain="math", template=TOY_PROMPT).text for q, _ in problems]
    dataset = Dataset.from_dict({"prompt": prompts, "answer": [a for _, a in problems]})
    grader = Grader(GraderConfig(workers=1))

    def reward(completions: list[str], answer: list[str], **_: object) -> list[float]:
        items = [GradeItem(response=c, answer=a) for c, a in zip(completions, answer, strict=True)]
        grades = grader.grade(items)
        return [grade.reward for grade in grades]

    stamps: list[float] = []
    lengths: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, *_: object, **__: object) -> None:
            stamps.append(time.perf_counter())

        def on_log(self, _args, _state, _control, logs=None, **__: object) -> None:
            if logs and "completions/mean_length" in logs:
                lengths.append(logs["completions/mean_length"])

    config = GRPOConfig(
        output_dir=str(root / "trl"), use_cpu=True, bf16=False, report_to=[], save_strategy="no",
        logging_steps=1, disable_tqdm=True, max_steps=args.steps + args.warmup + 1,
        per_device_train_batch_size=args.prompts * args.group_size, num_generations=args.group_size,
        max_completion_length=args.max_new_tokens, learning_rate=1e-6, beta=0.0, loss_type="dapo",
        epsilon=0.2, epsilon_high=0.28, temperature=1.0, top_p=1.0, top_k=0, num_iterations=1,
        gradient_accumulation_steps=1, seed=0, dataloader_num_workers=0,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(model),
        reward_funcs=reward,
        args=config,
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(model),
        callbacks=[Clock()],
    )
    try:
        trainer.train()
    finally:
        grader.close()
    return step_times(stamps, args.warmup), statistics.fmean(lengths) if lengths else float("nan")


class Runs:
    """One side of the comparison: each call is a whole training run in a fresh folder, and
    returns the run's median step time (the first `--warmup` steps left out)."""

    def __init__(self, run: Callable, args: argparse.Namespace, model: Path, root: Path) -> None:
        self.run, self.args, self.model, self.root = run, args, model, root
        self.lengths: list[float] = []

    def __call__(self) -> float:
        folder = Path(tempfile.mkdtemp(dir=self.root))
        times, length = self.run(self.args, self.model, folder)
        self.lengths.append(length)
        return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=6, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=2, help="steps of each run left out of the timing")
    parser.add_argument("--prompts", type=int, default=8, help="problems per step")
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5, help="alternating measured runs of each side")
    parser.add_argument("--warmup-rounds", type=int, default=1, help="unmeasured runs of each side first")
    args = parser.parse_args()

    import torch

    from srpo.testing.tiny_model import build_tiny_model

    torch.set_num_threads(max(1, torch.get_num_threads()))
    report("prompts_per_step", args.prompts)
    report("group_size", args.group_size)
    report("max_new_tokens", args.max_new_tokens)
    report("torch_threads", torch.get_num_threads())
    report("per round", f"one training run of each side: {args.warmup} + {args.steps} timed steps")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_tiny_model(root / "model")
        ours, theirs = Runs(run_srpo, args, model, root), Runs(run_trl, args, model, root)

        def details() -> None:
            import trl

            report("trl_version", trl.__version__)
            report("srpo response length (mean)", statistics.fmean(ours.lengths), "tokens")
            report("trl response length (mean)", statistics.fmean(theirs.lengths), "tokens")

        compare("train_step", Side("srpo", ours), Side("trl", theirs), rounds=args.rounds,
                warmup=args.warmup_rounds, unit="s/step", lower_is_better=True, details=details)  # fmt: skip


if __name__ == "__main__":
    main()
