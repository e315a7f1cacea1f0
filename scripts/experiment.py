"""`just experiment`: uniform, dynamic and history sampling on a miniature SRPO run, on a CPU.

Builds everything on the spot, offline, then drives srpo through its public commands only:
1. arithmetic problems in math and code (`srpo.testing.arithmetic`): a fine-tuning set, an RL
   training set, and held-out math and code sets that nothing trains on;
2. a base policy of about a million parameters (`srpo.testing.arithmetic_policy`), taught to
   work the problems out, then the habit of mostly answering directly: right on some problems,
   sometimes on others, rarely on the longest; showing its working is what RL can teach it;
3. `srpo-curate ingest` (held-out sets as benchmarks: stored, decontaminated against, never
   trained on), `srpo-curate verify`, `srpo-curate difficulty` (the base policy's pass@k);
4. per arm and seed, on its own copy of the rated catalog: `srpo-train --from-catalog` with
   `data.sampling` uniform, dynamic or history and the same `budget.max_rollouts`, stage 1 math,
   stage 2 math and code from `stages.switch_after_rollouts`; the run stops at evaluation points
   and resumes (`--resume`), and each point's model is evaluated on the held-out sets with
   `srpo-curate difficulty`; numbers are read back with `srpo-curate query --sql`.

Evaluation (fixed before any result was seen): held-out accuracy is sampled pass@1 of the
policy itself, temperature 1.0, top-p 1.0, the training's max_new_tokens, `eval_k` samples per
held-out problem with a fixed seed, averaged over every sample of every held-out problem.

Prints one `result ARM:` line per arm (`srpo.testing.experiment_results`), `spread` lines with
several seeds, writes the arms' held-out curves as `accuracy.png` next to the runs
(`experiment_figures`), and each arm's training curves with `srpo-curate report`
(`ARM-seedN/report.html`).

Usage: just experiment [--quick] [--seeds 1,2,3] [--output DIR] [--jobs N] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from srpo.testing.arithmetic_policy import PolicyOptions

ARMS = ("uniform", "dynamic", "history")


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Sizes and settings of one experiment (`QUICK` or `FULL`)."""

    seeds: tuple[int, ...]
    heldout_math: int
    heldout_code: int
    budget: int
    """Rollouts each arm may generate."""
    evaluations: int
    """Held-out evaluations along each run (the last at the budget)."""
    prompts_per_step: int = 16
    group: int = 8
    stage1_share: float = 0.6
    """Stage 2 starts once this share of the budget is generated."""
    rate_k: int = 8
    eval_k: int = 4
    max_new_tokens: int = 48
    learning_rate: float = 3e-4
    jobs: int = 3
    policy: PolicyOptions = field(default_factory=PolicyOptions)
    """The base policy's shape and teaching."""


QUICK = Plan(seeds=(1,), heldout_math=140, heldout_code=70, budget=6144, evaluations=2)
FULL = Plan(seeds=(1, 2, 3), heldout_math=140, heldout_code=70, budget=6144, evaluations=4)


def say(message: str) -> None:
    print(f"experiment: {message}", file=sys.stderr, flush=True)


@dataclass
class Runner:
    """Runs srpo's commands as a user would, logging their output under the run's folder."""

    root: Path
    threads: int = 1
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # One thread per process: on 2 shared cores several threads per process thrash.
        self.env = {**os.environ, "OMP_NUM_THREADS": str(self.threads), "TOKENIZERS_PARALLELISM": "false"}

    def __call__(self, tool: str, *args: str, log: str) -> str:
        module = {"curate": "srpo.cli.curate", "train": "srpo.cli.train"}[tool]
        command = [sys.executable, "-m", module, *args]
        done = subprocess.run(command, capture_output=True, text=True, env=self.env, check=False)
        with (self.root / f"{log}.log").open("a", encoding="utf-8") as handle:
            handle.write(f"$ srpo-{tool} {' '.join(args)}\n{done.stdout}{done.stderr}\n")
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise SystemExit(f"srpo-{tool} {args[0]} failed ({last}); see {self.root / log}.log")
        return done.stdout

    def query(self, catalog: Path, sql: str) -> list[dict[str, Any]]:
        out = self("curate", "query", "--catalog", str(catalog), "--sql", sql, "-f", "jsonl", log="queries")
        return [json.loads(line) for line in out.splitlines() if line.strip()]


# ------------------------------------------------------------------------------ base


def write_configs(plan: Plan, root: Path) -> None:
    """The difficulty and evaluation configs (the same prompt and sampling as training)."""
    from srpo.testing.arithmetic_policy import PROMPT_SETTINGS

    common = {"engine": {"backend": "transformers", "device": "cpu", "batch_size": 256},
              "prompt": PROMPT_SETTINGS, "grader": {"workers": 1}, "batch_size": 64}  # fmt: skip
    sampling = {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": plan.max_new_tokens}
    rate = {**common, "sampling": {**sampling, "n": plan.rate_k, "seed": 7}}
    evaluate = {**common, "sampling": {**sampling, "n": plan.eval_k, "seed": 1234}}
    (root / "rate.json").write_text(json.dumps(rate, indent=2))
    (root / "evaluate.json").write_text(json.dumps(evaluate, indent=2))


@dataclass(frozen=True)
class Base:
    """The base policy, the rated catalog and the base policy's held-out accuracy."""

    model: Path
    catalog: Path
    math: float
    code: float
    ratings: dict[str, int]
    teaching: dict[str, Any]
    seconds: float

    def save(self, root: Path) -> None:
        (root / "base.json").write_text(json.dumps({**asdict(self), "model": str(self.model),
                                                    "catalog": str(self.catalog)}, indent=2))  # fmt: skip

    @classmethod
    def load(cls, root: Path) -> Base:
        """A base an earlier invocation built (`--base DIR`), to run other arms against it."""
        found = json.loads((root / "base.json").read_text())
        return cls(**{**found, "model": Path(found["model"]), "catalog": Path(found["catalog"])})


def build_base(plan: Plan, root: Path, run: Runner, *, taught: Path | None = None) -> Base:
    """Problems, the taught base policy, the ingested, verified and rated catalog, and the
    base policy's held-out accuracy: the same for every arm, built once."""
    import torch

    from srpo.testing.arithmetic import SplitSizes, make_splits, write_rows
    from srpo.testing.arithmetic_policy import build_base_policy

    started = time.perf_counter()
    torch.set_num_threads(os.cpu_count() or 1)  # teaching runs alone: every core
    sizes = SplitSizes(heldout_math=plan.heldout_math, heldout_code=plan.heldout_code)
    splits = make_splits(sizes, seed=0)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, problems in splits.by_name().items():
        write_rows(data / f"{name}.jsonl", problems, prefix=f"{name}-")
    model = root / "base-model"
    if taught is not None:  # a policy an earlier run taught the same problems (tuning RL only)
        shutil.copytree(taught, model)
        teaching = json.loads((model / "teaching.json").read_text())
    else:
        say(f"teaching the base policy ({len(splits.sft)} answers, worked or direct)")
        teaching = build_base_policy(model, splits.sft, plan.policy)
    catalog = root / "base.duckdb"
    cat = ("--catalog", str(catalog))
    run(
        "curate",
        "ingest",
        str(data / "train.jsonl"),
        "--source",
        "arith",
        "--split",
        "train",
        *cat,
        log="base",
    )
    for name in ("heldout_math", "heldout_code"):
        run("curate", "ingest", str(data / f"{name}.jsonl"), "--source", name, "--split", "test",
            "--benchmark", name, *cat, log="base")  # fmt: skip
    run("curate", "verify", *cat, "--workers", "1", log="base")
    say("rating the training problems with the base policy (srpo-curate difficulty)")
    run("curate", "difficulty", "--model", str(model), "--config", str(root / "rate.json"),
        "--where", "benchmark IS NULL", "--run-id", "rate-base", *cat, log="base")  # fmt: skip
    rated = run.query(
        catalog, "SELECT difficulty, count(*) AS n FROM problems WHERE benchmark IS NULL GROUP BY 1"
    )
    ratings = {row["difficulty"]: row["n"] for row in rated}
    accuracy = evaluate(run, catalog, model, "eval-base", root)
    return Base(model, catalog, accuracy["math"], accuracy["code"], ratings, teaching,
                time.perf_counter() - started)  # fmt: skip


def evaluate(run: Runner, catalog: Path, model: Path, run_id: str, root: Path) -> dict[str, float]:
    """Held-out accuracy per domain: `srpo-curate difficulty` over the benchmark rows."""
    run("curate", "difficulty", "--model", str(model), "--config", str(root / "evaluate.json"),
        "--where", "benchmark IS NOT NULL", "--run-id", run_id, "--set", "selection.rerate=true",
        "--catalog", str(catalog), log="evaluations")  # fmt: skip
    rows = run.query(
        catalog,
        "SELECT p.domain, avg(CASE WHEN r.status = 'correct' THEN 1.0 ELSE 0.0 END) AS accuracy "
        "FROM rollouts r JOIN (SELECT DISTINCT problem_id, domain FROM problems "
        f"WHERE benchmark IS NOT NULL) p USING (problem_id) WHERE r.run_id = '{run_id}' GROUP BY 1",
    )
    return {row["domain"]: float(row["accuracy"]) for row in rows}


# ------------------------------------------------------------------------------ arms


def train_config(plan: Plan, arm: str, seed: int, directory: Path, overrides: list[str]) -> list[str]:
    """The arm's settings, as `--set` values (stored with the run; a resume keeps them)."""
    from srpo.testing.arithmetic_policy import PROMPT_SETTINGS

    per_step = plan.prompts_per_step * plan.group
    switch = max(per_step, round(plan.budget * plan.stage1_share / per_step) * per_step)
    settings = {
        "seed": seed, "output_dir": str(directory / "run"), "data.sampling": arm,
        "data.prompts_per_step": plan.prompts_per_step, "data.code_share": 0.5,
        "engine.batch_size": 256,
        "sampling.n": plan.group, "sampling.temperature": 1.0, "sampling.max_new_tokens": plan.max_new_tokens,
        "prompt": json.dumps(PROMPT_SETTINGS), "grader.workers": 1,
        "optim.learning_rate": plan.learning_rate, "optim.weight_decay": 0.0,
        "objective.micro_batch_size": 64, "deepspeed.zero_stage": 0,
        "stages.switch_after_rollouts": switch, "budget.max_steps": 100_000,
        "checkpoint.every_steps": 0, "checkpoint.keep_last": 1, "logging.print_every": 4,
    }  # fmt: skip
    return [f"{key}={value}" for key, value in settings.items()] + overrides


def checkpoints(plan: Plan) -> list[int]:
    """Rollout budgets at which a run stops to be evaluated (whole steps; the last is the budget)."""
    per_step = plan.prompts_per_step * plan.group
    return [max(per_step, round(plan.budget * (i + 1) / plan.evaluations / per_step) * per_step)
            for i in range(plan.evaluations)]  # fmt: skip


def run_arm(plan: Plan, root: Path, base: Base, arm: str, seed: int, overrides: list[str]) -> dict[str, Any]:
    directory = root / f"{arm}-seed{seed}"
    directory.mkdir(parents=True, exist_ok=True)
    catalog = directory / "catalog.duckdb"
    shutil.copyfile(base.catalog, catalog)  # the rated catalog is the same for every arm
    run = Runner(directory)
    run_id = f"{arm}-seed{seed}"
    settings = train_config(plan, arm, seed, directory, overrides)
    started = time.perf_counter()
    points = [{"generated": 0, "math": base.math, "code": base.code}]
    for index, budget in enumerate(checkpoints(plan)):
        start = ["--model", str(base.model), "--run-id", run_id] if index == 0 else ["--resume", run_id]
        sets = settings if index == 0 else [f"budget.max_rollouts={budget}"]
        if index == 0:
            sets = [*sets, f"budget.max_rollouts={budget}"]
        args = [arg for value in sets for arg in ("--set", value)]
        run("train", "--from-catalog", str(catalog), *start, *args, log="train")
        accuracy = evaluate(run, catalog, directory / "run" / "model", f"eval-{index + 1}", root)
        generated = _generated(run, catalog, run_id)
        points.append({"generated": generated, **accuracy})
        math, code = accuracy["math"], accuracy["code"]
        say(f"{run_id}: {generated} rollouts, held-out math {math:.3f} code {code:.3f}")
    seconds = time.perf_counter() - started
    # The run's own curves (reward, accuracy and length per domain across the stage switch,
    # groups with identical rewards, history resampling per epoch): srpo's report command.
    run("curate", "report", "--catalog", str(catalog), "--run", run_id, "-o", str(directory / "report.html"),
        log="report")  # fmt: skip
    summary = {"arm": arm, "seed": seed, "seconds": seconds, "points": points,
               **_counts(run, catalog, run_id), "steps": _steps(run, catalog, run_id),
               "switch": _switch(run, catalog, run_id)}  # fmt: skip
    (directory / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _generated(run: Runner, catalog: Path, run_id: str) -> int:
    return int(run.query(catalog, f"SELECT count(*) AS n FROM rollouts WHERE run_id = '{run_id}'")[0]["n"])


def _counts(run: Runner, catalog: Path, run_id: str) -> dict[str, Any]:
    """Rollouts generated and trained on, and the share of generated groups with equal rewards."""
    [row] = run.query(
        catalog,
        "SELECT sum(n) AS generated, sum(trained) AS trained, avg(flat) AS zero_std_share FROM ("
        "  SELECT count(*) AS n, count(*) FILTER (trained) AS trained,"
        "         CASE WHEN min(reward) = max(reward) THEN 1.0 ELSE 0.0 END AS flat"
        f"  FROM rollouts WHERE run_id = '{run_id}' GROUP BY epoch, problem_id)",
    )
    return {key: float(value) for key, value in row.items()}


def _steps(run: Runner, catalog: Path, run_id: str) -> list[dict[str, Any]]:
    """Per step and domain: rollouts, accuracy and mean response length (the training curves)."""
    return run.query(
        catalog,
        "SELECT r.step, p.domain, count(*) AS rollouts, count(*) FILTER (r.trained) AS trained,"
        "       avg(CASE WHEN r.status = 'correct' THEN 1.0 ELSE 0.0 END) AS reward,"
        "       avg(r.response_tokens) AS length "
        "FROM rollouts r JOIN (SELECT DISTINCT problem_id, domain FROM problems) p USING (problem_id) "
        f"WHERE r.run_id = '{run_id}' GROUP BY ALL ORDER BY 1, 2",
    )


def _switch(run: Runner, catalog: Path, run_id: str) -> int | None:
    rows = run.query(catalog, f"SELECT stage_switch_step AS step FROM runs WHERE run_id = '{run_id}'")
    return rows[0]["step"] if rows else None


# ------------------------------------------------------------------------------ main


def result_of(summary: dict[str, Any], base: Base):
    from srpo.testing.experiment_results import ArmResult

    last = summary["points"][-1]
    return ArmResult(accuracy_before=base.math, accuracy_after=last["math"], code_accuracy_after=last["code"],
                     rollouts_generated=summary["generated"], rollouts_trained=summary["trained"],
                     zero_std_share=summary["zero_std_share"], seconds=summary["seconds"])  # fmt: skip


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, Plan]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one seed per arm, a smaller budget (minutes)")
    parser.add_argument(
        "--seeds", default=None, help="comma-separated RL seeds (default: 1 quick, 1,2,3 full)"
    )
    parser.add_argument("--budget", type=int, default=None, help="rollouts per arm")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated arms to run")
    parser.add_argument("--jobs", type=int, default=None, help="arms run at once (default 3)")
    parser.add_argument("--output", type=Path, default=None, help="default: srpo-runs/experiment-<time>")
    parser.add_argument("--base", type=Path, default=None, help="reuse the base of an earlier run's folder")
    parser.add_argument("--model", type=Path, default=None, help="reuse a taught base policy (skip teaching)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", help="srpo-train setting")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.seeds:
        plan = replace(plan, seeds=tuple(int(s) for s in args.seeds.split(",")))
    for name, value in (("budget", args.budget), ("jobs", args.jobs)):
        if value is not None:
            plan = replace(plan, **{name: value})
    return args, plan


def main(argv: list[str] | None = None) -> None:
    from srpo.testing.experiment_results import result_lines

    args, plan = parse_args(argv)
    started = time.perf_counter()
    root = (args.output or Path("srpo-runs") / time.strftime("experiment-%Y%m%d-%H%M%S")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    (root / "plan.json").write_text(json.dumps({**asdict(plan), "overrides": args.overrides}, indent=2))
    say(f"output in {root}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    write_configs(plan, root)
    if args.base:
        base = Base.load(args.base.resolve())
    else:
        base = build_base(plan, root, Runner(root), taught=args.model.resolve() if args.model else None)
    base.save(root)
    say(f"base policy: held-out math {base.math:.3f}, code {base.code:.3f}; ratings {base.ratings}; "
        f"{base.seconds:.0f} s")  # fmt: skip
    arms = [a for a in args.arms.split(",") if a]
    jobs = [(arm, seed) for seed in plan.seeds for arm in arms]
    with ThreadPoolExecutor(max_workers=max(1, plan.jobs)) as pool:
        summaries = list(pool.map(lambda job: run_arm(plan, root, base, *job, args.overrides), jobs))
    by_arm: dict[str, list] = {arm: [] for arm in arms}
    for summary in summaries:
        by_arm[summary["arm"]].append(result_of(summary, base))
    from experiment_figures import draw_figures

    figures = draw_figures(root, summaries, base_accuracy={"math": base.math, "code": base.code})
    lines = result_lines(by_arm, arms)
    (root / "results.txt").write_text("\n".join(lines) + "\n")
    say(f"figures: {', '.join(str(f) for f in figures)}")
    say(f"total {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f}")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
