"""Code rewards at training speed: a trainer-sized batch of responses through the trainer's path.

    python bench/code_rewards.py [--batch 512] [--workers N] [--timeout 5] [--seed 0]

Builds `--batch` model-style responses (prose, then one fenced python block) to MBPP and LeetCode
problems from $SRPO_SHARED_DATA (or ../shared/data), half each: about six in ten the reference
solution, three in ten a wrong one (the reference with its answers mangled, so it does the same
work), one in ten hostile or never-ending (endless loop, endless sleep, fork, thread and memory
bombs, an output flood, writing outside the scratch, reading host files, connecting to a listener
this process opens on 127.0.0.1, killing its harness, exiting before the tests). It grades them
with `srpo.verify.grading.Grader(GraderConfig(...)).grade`, the call the trainer makes each step,
after a warm-up batch that starts the sandboxes, and prints responses/s, p50/p99 per response
(each response's latency, from the call for it to its grade, waiting for its turn in a sandbox
included), the share of the batch's time lost to the hostile responses (the batch's time against
that of the same batch without them, graded right after), and whether every reward is the
expected one. The test cases per response are the datasets' own (about three asserts).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA, report
from srpo.catalog.testspec import AssertTests, case_count
from srpo.curate.adapters import get_adapter
from srpo.verify.code import batch as code_batch
from srpo.verify.config import GraderConfig
from srpo.verify.grading import GradeItem, Grader

MBPP = SHARED_DATA / "mbpp" / "mbpp.jsonl"
LEETCODE = SHARED_DATA / "rllm_deepscaler" / "train_code" / "leetcode.json"

# Wrong answers: the reference runs, then its result is changed (same work, reward 0).
MANGLE = """
def _mangle(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "?"
    if isinstance(value, (list, tuple)):
        return type(value)(list(value) + [None])
    return ("wrong", value)
"""
HOSTILE = {
    "endless loop": "while True:\n    pass\n",
    "endless sleep": "import time\ntime.sleep(10 ** 6)\n",
    "fork bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    "thread bomb": "import threading, time\nwhile True:\n"
    "    threading.Thread(target=time.sleep, args=(60,)).start()\n",
    "memory bomb": "hog = []\nwhile True:\n    hog.append(bytearray(1 << 24))\n",
    "output flood": "while True:\n    print('x' * 4096)\n",
    "write outside": "for path in ('/tmp/srpo-pwned', '/usr/srpo-pwned', '{home}/srpo-pwned'):\n"
    "    try:\n        open(path, 'w').write('x')\n    except OSError:\n        pass\n"
    "raise SystemExit(0)\n",
    "read host files": "seen = []\nfor path in ('/etc/shadow', '/root/.bashrc', '{home}/pyproject.toml'):\n"
    "    try:\n        seen.append(open(path).read())\n    except OSError:\n        pass\n"
    "raise SystemExit(0)\n",
    "connect to host": "import socket\ntry:\n"
    "    socket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'x')\n"
    "except OSError:\n    pass\nraise SystemExit(0)\n",
    "kill the harness": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",
    "exit before tests": "import os\nos._exit(0)\n",
}


def respond(program: str, index: int) -> str:
    body = f"# answer {index}\n{program.strip()}"
    return f"Here is my solution.\n\n```python\n{body}\n```\n\nIt passes the examples."


def wrong(program: str, tests: AssertTests) -> str:
    """The reference with every answer of its entry point mangled."""
    if tests.entry_point and tests.entry_point.startswith("Solution()."):
        method = tests.entry_point.split(".", 1)[1]
        wrapper = (f"_Real = Solution\nclass Solution(_Real):\n    def {method}(self, *args, **kwargs):\n"
                   f"        return _mangle(super().{method}(*args, **kwargs))\n")  # fmt: skip
    else:
        name = tests.code.split("assert", 1)[1].split("(", 1)[0].strip()
        wrapper = (
            f"_real = {name}\ndef {name}(*args, **kwargs):\n    return _mangle(_real(*args, **kwargs))\n"
        )
    return program + "\n" + MANGLE + wrapper


def load_problems(rng: random.Random, count: int) -> list[tuple[str, Any]]:
    """(reference solution, tests) pairs, half MBPP, half LeetCode."""
    mbpp, leetcode = get_adapter("mbpp"), get_adapter("leetcode")
    rows = [json.loads(line) for line in MBPP.read_text(encoding="utf-8").splitlines() if line.strip()]
    found = [mbpp.convert(row) for row in rng.sample(rows, count // 2)]
    rows = json.loads(LEETCODE.read_text(encoding="utf-8"))
    found += [leetcode.convert(row) for row in rng.sample(rows, count - count // 2)]
    return [(problem.solution, problem.tests) for problem in found]


def build_batch(rng: random.Random, size: int, port: int) -> list[tuple[str, GradeItem]]:
    """(kind, item): kind is `correct`, `wrong` or the hostile program's name."""
    hostile = list(HOSTILE)
    batch = []
    for index, (solution, tests) in enumerate(load_problems(rng, size)):
        if index % 10 == 9:
            kind = hostile[(index // 10) % len(hostile)]
            program = HOSTILE[kind].format(port=port, home=Path.cwd())
        elif index % 10 < 3:
            kind, program = "wrong", wrong(solution, tests)
        else:
            kind, program = "correct", solution
        batch.append((kind, GradeItem(response=respond(program, index), domain="code", tests=tests)))
    rng.shuffle(batch)
    return batch


def timed_grading() -> dict[str, float]:
    """Record each response's own time in its worker (the bench wraps the per-item call)."""
    seconds: dict[str, float] = {}
    real = code_batch.grade_code

    def grade_code(item: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real(item, **kwargs)
        finally:
            seconds[item.response] = time.perf_counter() - started

    code_batch.grade_code = grade_code
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512, help="responses in the graded batch")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--timeout", type=float, default=GraderConfig().timeout_s, help="grader.timeout_s")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (MBPP.is_file() and LEETCODE.is_file()):
        print(f"skipped: {MBPP} or {LEETCODE} not found (set SRPO_SHARED_DATA)", flush=True)
        return
    rng = random.Random(args.seed)
    with (
        socket.socket() as listener,
        Grader(GraderConfig(workers=args.workers, timeout_s=args.timeout)) as grader,
    ):
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        batch = build_batch(rng, args.batch, listener.getsockname()[1])
        warm = build_batch(random.Random(args.seed + 1), 2 * args.workers, 1)
        grader.grade([item for kind, item in warm if kind in ("correct", "wrong")])
        seconds = timed_grading()
        load = os.getloadavg()[0]
        started = time.perf_counter()
        grades = grader.grade([item for _, item in batch])
        elapsed = time.perf_counter() - started
        per_item = [seconds[item.response] for _, item in batch]  # before the clean batch writes over
        started = time.perf_counter()
        grader.grade([item for kind, item in batch if kind in ("correct", "wrong")])
        clean_elapsed = time.perf_counter() - started
        try:
            listener.accept()
            reached = "yes (a program reached the host)"
        except BlockingIOError:
            reached = "no"
    kinds = [kind for kind, _ in batch]
    expected = sum(
        (grade.reward == 1.0) == (kind == "correct") for kind, grade in zip(kinds, grades, strict=True)
    )
    hostile = len(batch) - kinds.count("correct") - kinds.count("wrong")
    mix = f"{kinds.count('correct')} correct, {kinds.count('wrong')} wrong, {hostile} hostile or never-ending"
    report("responses", f"{len(batch)} ({mix})")
    cases = statistics.mean(case_count(item.tests) for _, item in batch)
    report("test cases per response", f"{cases:.1f} (the datasets' own asserts)")
    report("grader", f"workers {args.workers}, timeout_s {args.timeout:g}, isolation {grades[0].isolation}")
    report("load average at start", f"{load:.2f} (2 cores shared with other jobs)")
    report("batch time", elapsed, "s")
    report("throughput", len(batch) / elapsed, "responses/s")
    report("p50 per response", 1000 * statistics.median(per_item), "ms")
    report("p99 per response", 1000 * statistics.quantiles(per_item, n=100)[98], "ms")
    clean = [s for kind, s in zip(kinds, per_item, strict=True) if kind in ("correct", "wrong")]
    report("p50 per response, hostile excluded", 1000 * statistics.median(clean), "ms")
    report("batch time without the hostile responses", clean_elapsed, "s")
    lost = 100 * (1 - clean_elapsed / elapsed)
    report("share of the batch's time lost to the hostile responses", f"{lost:.1f}%")
    for kind in HOSTILE:
        spent = [s for k, s in zip(kinds, per_item, strict=True) if k == kind]
        statuses = sorted({g.code_status for k, g in zip(kinds, grades, strict=True) if k == kind})
        if spent:
            report(
                f"hostile: {kind}", f"{len(spent)} x {statistics.mean(spent):.2f} s, {', '.join(statuses)}"
            )
    report("loopback listener reached", reached)
    report("rewards as expected", f"{expected}/{len(batch)}")


if __name__ == "__main__":
    main()
