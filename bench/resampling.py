"""History resampling vs uniform sampling vs DAPO dynamic sampling, on a simulated training run.

Each problem has a latent difficulty d; the policy has a skill s, and a sample solves a problem
with probability sigmoid(s - d). Training raises s by `--learning` for every informative group
(rewards not all equal: the only groups with a gradient), so a method that wastes fewer groups
also learns faster. Every method trains the same number of steps of `--groups` groups of
`--group-size` samples:

- uniform: every problem once per epoch, in a shuffled order (plain GRPO);
- dapo_dynamic: DAPO's dynamic sampling: groups are sampled and the ones with equal rewards
  thrown away until the step has `--groups` informative groups (at most `--max-gen-batches`
  batches per step), so no trained group is wasted but rollouts are;
- srpo_history: srpo's own epoch query (`srpo.train.resampling.plan_epoch`) over a scratch
  catalog holding the problems and every simulated rollout: after each epoch, problems whose
  samples were all correct are dropped; mixed and all-wrong ones stay.

Prints, per method, the share of zero-advantage groups among the groups sampled (over the whole
run and its last quarter), rollouts per informative group, rollouts in total, and the final mean
solve rate over all problems; the last line compares rollouts per informative group with DAPO.

Usage: just bench resampling [--problems N] [--steps N] [--groups N] [--group-size N] [--seed N]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report


@dataclass
class Simulation:
    difficulties: list[float]
    skill: float
    learning: float
    rng: random.Random
    group_size: int
    sampled_groups: int = 0
    zero_groups: int = 0
    informative: int = 0
    rollouts: int = 0
    late_sampled: int = 0
    late_zero: int = 0
    late: bool = False
    trained_zero: int = 0
    trained: int = 0
    history: list[float] = field(default_factory=list)

    def sample(self, problem: int) -> list[bool]:
        """One group: `group_size` samples of `problem` at the current skill."""
        p = 1 / (1 + math.exp(-(self.skill - self.difficulties[problem])))
        outcomes = [self.rng.random() < p for _ in range(self.group_size)]
        zero = all(outcomes) or not any(outcomes)
        self.sampled_groups += 1
        self.rollouts += self.group_size
        self.zero_groups += zero
        if self.late:
            self.late_sampled += 1
            self.late_zero += zero
        return outcomes

    def train_on(self, groups: list[list[bool]]) -> None:
        informative = sum(1 for g in groups if any(g) and not all(g))
        self.trained += len(groups)
        self.trained_zero += len(groups) - informative
        self.informative += informative
        self.skill += self.learning * informative

    def solve_rate(self) -> float:
        return sum(1 / (1 + math.exp(-(self.skill - d))) for d in self.difficulties) / len(self.difficulties)


def new_simulation(args: argparse.Namespace, difficulties: list[float], salt: int) -> Simulation:
    return Simulation(difficulties, args.start_skill, args.learning, random.Random(args.seed * 1000 + salt),
                      args.group_size)  # fmt: skip


def run_uniform(args: argparse.Namespace, difficulties: list[float]) -> Simulation:
    sim = new_simulation(args, difficulties, 1)
    order: list[int] = []
    for step in range(args.steps):
        sim.late = step >= args.steps * 3 // 4
        batch = []
        while len(batch) < args.groups:
            if not order:
                order = list(range(len(difficulties)))
                sim.rng.shuffle(order)
            batch.append(order.pop())
        sim.train_on([sim.sample(problem) for problem in batch])
    return sim


def run_dapo(args: argparse.Namespace, difficulties: list[float]) -> Simulation:
    sim = new_simulation(args, difficulties, 2)
    order: list[int] = []
    for step in range(args.steps):
        sim.late = step >= args.steps * 3 // 4
        kept: list[list[bool]] = []
        for _ in range(args.max_gen_batches):
            for _ in range(args.groups):
                if not order:
                    order = list(range(len(difficulties)))
                    sim.rng.shuffle(order)
                group = sim.sample(order.pop())
                if any(group) and not all(group):
                    kept.append(group)
            if len(kept) >= args.groups:
                break
        sim.train_on(kept[: args.groups])
    return sim


def run_srpo(args: argparse.Namespace, difficulties: list[float], directory: Path) -> tuple[Simulation, int]:
    """History resampling with srpo's real epoch query over a scratch catalog."""
    from srpo.catalog import Catalog
    from srpo.catalog.records import utcnow
    from srpo.catalog.rollouts import RolloutRow, insert_rollouts
    from srpo.catalog.runs import start_run
    from srpo.train.config import DataConfig
    from srpo.train.resampling import plan_epoch

    catalog = Catalog.open(directory / "sim.duckdb", create=True)
    ids = [f"p{index:06d}" for index in range(len(difficulties))]
    with catalog.writer() as con:
        now = utcnow()
        con.executemany(
            "INSERT INTO problems (problem_id, source, split, source_index, domain, question, answer, "
            "row_hash, verify_status, difficulty, created_at, updated_at) "
            "VALUES (?, 'sim', 'train', ?, 'math', ?, '1', ?, 'verified', 'hard', ?, ?)",
            [(pid, pid, f"problem {pid}", pid, now, now) for pid in ids],
        )
        start_run(con, "sim", kind="train", model="simulated", config={})
    index_of = {pid: index for index, pid in enumerate(ids)}
    sim = new_simulation(args, difficulties, 3)
    step, epoch, data = 0, 0, DataConfig(include_unrated=True)
    while step < args.steps:
        with catalog.reader() as con:
            problems = plan_epoch(con, data, run_id="sim", epoch=epoch, stage=1, seed=args.seed).problems
        if not problems:
            break
        rows = []
        for start in range(0, len(problems), args.groups):
            if step >= args.steps:
                break
            sim.late = step >= args.steps * 3 // 4
            batch = problems[start : start + args.groups]
            groups = [sim.sample(index_of[p.problem_id]) for p in batch]
            sim.train_on(groups)
            step += 1
            rows += [
                RolloutRow(
                    run_id="sim",
                    problem_id=p.problem_id,
                    sample_idx=i,
                    reward=float(ok),
                    status="correct" if ok else "wrong",
                    response_tokens=1,
                    finish_reason="stop",
                    epoch=epoch,
                    stage=1,
                    step=step,
                )
                for p, group in zip(batch, groups, strict=True)
                for i, ok in enumerate(group)
            ]
        with catalog.writer() as con:
            insert_rollouts(con, rows)
        epoch += 1
    return sim, epoch


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--groups", type=int, default=32, help="groups (problems) trained per step")
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument(
        "--max-gen-batches", type=int, default=10, help="DAPO: batches sampled per step at most"
    )
    parser.add_argument("--start-skill", type=float, default=-1.0)
    parser.add_argument("--learning", type=float, default=0.0008, help="skill gained per informative group")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    difficulties = [rng.uniform(-4.0, 4.0) for _ in range(args.problems)]
    report("problems", args.problems)
    report("steps", args.steps)
    report("groups_per_step", args.groups)
    report("group_size", args.group_size)
    started = time.perf_counter()
    results = {"uniform": run_uniform(args, difficulties), "dapo_dynamic": run_dapo(args, difficulties)}
    with tempfile.TemporaryDirectory() as tmp:
        srpo_started = time.perf_counter()
        results["srpo_history"], epochs = run_srpo(args, difficulties, Path(tmp))
        srpo_s = time.perf_counter() - srpo_started
    for name, sim in results.items():
        report(f"zero_adv_share_sampled {name}", sim.zero_groups / max(1, sim.sampled_groups))
        report(f"zero_adv_share_sampled_last_quarter {name}", sim.late_zero / max(1, sim.late_sampled))
        report(f"zero_adv_share_trained {name}", sim.trained_zero / max(1, sim.trained))
        report(f"rollouts_per_informative_group {name}", sim.rollouts / max(1, sim.informative))
        report(f"rollouts_total {name}", sim.rollouts)
        report(f"final_solve_rate {name}", sim.solve_rate())
    report("srpo_history epochs", epochs)
    report("srpo_history query+write time", srpo_s, "s")
    report("elapsed", time.perf_counter() - started, "s")
    dapo, srpo = results["dapo_dynamic"], results["srpo_history"]
    ratio = (dapo.rollouts / max(1, dapo.informative)) / (srpo.rollouts / max(1, srpo.informative))
    print(f"ratio resampling: {ratio:.3g}")


if __name__ == "__main__":
    main()
