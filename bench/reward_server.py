"""`srpo-reward-server` under load on loopback: OpenRLHF-shaped requests from many concurrent
clients, some carrying hostile programs.

    python bench/reward_server.py [--requests 1000] [--clients 32] [--workers 4] [--timeout 2]

Starts the server as its own process (`python -m srpo.integrations.openrlhf --port 0`), then
sends `--requests` POSTs (one response each, as current OpenRLHF does: the query is prompt +
response + `<|im_end|>`, the label an `srpo_label` JSON) from `--clients` threads, each on one
keep-alive connection. The mix: math responses (one in eight needs algebra in the worker pool,
each a different expression), honest code (stdio and call tests, passing and failing), and
every `--hostile-every`th request a hostile program (infinite loop, fork bomb, memory bomb,
output flood, long sleep).
Every answer is checked against the reward it must have. Prints throughput, latency
percentiles for honest and hostile requests, and how many honest requests took longer than one
time limit (`--timeout`, a hostile program's cost). With `--record` the server also records
every completion in a scratch catalog (as `srpo-reward-server --record` does). Nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report

PROMPT = "<|im_start|>user\nSolve the problem.<|im_end|>\n<|im_start|>assistant\n"
HELLO = {"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]}
ADD = {
    "type": "call",
    "fn_name": "add",
    "cases": [{"args": [1, 2], "expected": 3}, {"args": [4, 5], "expected": 9}],
}
MATH = [  # gold, response, reward; decided in the server process (no algebra)
    ("7", "So the answer is \\boxed{7}.", 1.0),
    ("\\frac{1}{2}", "\\boxed{0.5}", 1.0),
    ("(-2, 2)", "\\boxed{[-2, 2]}", 0.0),
    ("7", "I am not sure.", 0.0),
    ("12", "\\boxed{13}", 0.0),
    ("\\{1, 2\\}", "\\boxed{\\{2, 1\\}}", 1.0),
    ("45^\\circ", "\\boxed{45}", 1.0),
]


def algebra(index: int) -> tuple[str, str, float]:
    """A pair only sympy decides, different for every request (as model responses are: no
    cache in the workers helps), correct or not."""
    k = index + 2
    if index % 2:
        return f"x^2 + {k}x", f"\\boxed{{x(x + {k})}}", 1.0
    return f"\\frac{{\\sqrt{{{k}}}}}{{{k}}}", f"\\boxed{{\\frac{{1}}{{\\sqrt{{{k + 1}}}}}}}", 0.0


CODE = [  # tests, program, reward
    (HELLO, "print('hello')", 1.0),
    (HELLO, "print('bye')", 0.0),
    (ADD, "def add(a, b):\n    return a + b", 1.0),
    (ADD, "def add(a, b):\n    return a * b", 0.0),
]
HOSTILE = [
    "while True:\n    pass",
    "import os\nwhile True:\n    os.fork()",
    "x = ' ' * (10 ** 11)",
    "while True:\n    print('x' * 10000)",
    "import time\ntime.sleep(100)",
]


@dataclass(frozen=True, slots=True)
class Request:
    kind: str  # math, code, hostile
    body: bytes
    reward: float


def fenced(program: str) -> str:
    return f"Here is my program.\n```python\n{program}\n```"


def build(count: int, hostile_every: int) -> list[Request]:
    requests = []
    for index in range(count):
        if hostile_every and index % hostile_every == hostile_every - 1:
            kind, response, label, reward = (
                "hostile",
                fenced(HOSTILE[index // hostile_every % len(HOSTILE)]),
                HELLO,
                0.0,
            )
            label = {"problem_id": f"code-{index}", "domain": "code", "tests": HELLO}
        elif index % 4 == 3:
            tests, program, reward = CODE[index // 4 % len(CODE)]
            kind, response, label = (
                "code",
                fenced(program),
                {"problem_id": f"c{index}", "domain": "code", "tests": tests},
            )
        else:
            gold, response, reward = algebra(index) if index % 8 == 2 else MATH[index % len(MATH)]
            kind, label = "math", {"problem_id": f"m{index}", "domain": "math", "answer": gold}
        payload = {
            "query": [PROMPT + response + "<|im_end|>"],
            "prompts": [PROMPT],
            "labels": [json.dumps(label)],
        }
        requests.append(Request(kind, json.dumps(payload).encode(), reward))
    return requests


def start_server(workers: int, timeout: float, record: Path | None) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "srpo.integrations.openrlhf", "--port", "0", "--workers", str(workers),
               "--timeout", str(timeout), "--set", f"grader.sandbox.total_timeout_s={timeout}"]  # fmt: skip
    if record is not None:
        command += ["--catalog", str(record), "--record", "--samples-per-prompt", "8"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if "srpo-reward-server: http://" in line:
            report("server", line.split("srpo-reward-server: ", 1)[1].strip())
            return process, int(line.split("http://127.0.0.1:")[1].split("/")[0])
    raise SystemExit(f"the server did not start (exit code {process.wait()})")


def client(port: int, work: queue.Queue, results: list, lock: threading.Lock) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        try:
            request = work.get_nowait()
        except queue.Empty:
            break
        started = time.perf_counter()
        try:
            connection.request(
                "POST", "/get_reward", body=request.body, headers={"Content-Type": "application/json"}
            )
            reply = connection.getresponse()
            answer = json.loads(reply.read())
            ok = reply.status == 200 and answer["rewards"] == [request.reward]
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            ok = False
        with lock:
            results.append((request.kind, time.perf_counter() - started, ok))
    connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="grader workers and sandboxes")
    parser.add_argument(
        "--timeout", type=float, default=2.0, help="time limit of one program (and test case)"
    )
    parser.add_argument(
        "--hostile-every", type=int, default=100, help="every Nth request is hostile (0: none)"
    )
    parser.add_argument("--record", action="store_true", help="record every completion in a scratch catalog")
    args = parser.parse_args()

    requests = build(args.requests, args.hostile_every)
    scratch = Path(tempfile.mkdtemp(prefix="srpo-bench-rm-"))
    catalog = None
    if args.record:
        from srpo.catalog import Catalog

        catalog = Catalog.open(scratch / "catalog.duckdb", create=True).path
    process, port = start_server(args.workers, args.timeout, catalog)
    try:
        work: queue.Queue[Request] = queue.Queue()
        for request in requests:
            work.put(request)
        results: list[tuple[str, float, bool]] = []
        lock = threading.Lock()
        threads = [
            threading.Thread(target=client, args=(port, work, results, lock)) for _ in range(args.clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=60)

    honest = [latency for kind, latency, _ in results if kind != "hostile"]
    report("requests", len(results))
    report("clients", args.clients)
    report("hostile requests", sum(kind == "hostile" for kind, _, _ in results))
    report("errors (no answer or a wrong reward)", sum(not ok for _, _, ok in results))
    report("wall time", elapsed, "s")
    report("throughput", len(results) / elapsed, "requests/s")
    for kind in ("math", "code", "hostile"):
        latencies = [latency for k, latency, _ in results if k == kind]
        if latencies:
            report(f"{kind} latency p50", 1000 * statistics.median(latencies), "ms")
            report(f"{kind} latency p99", 1000 * percentile(latencies, 0.99), "ms")
            report(f"{kind} latency max", 1000 * max(latencies), "ms")
    report("honest latency p99", 1000 * percentile(honest, 0.99), "ms")
    report("time limit per program", args.timeout, "s")
    report("honest requests slower than one time limit", sum(latency > args.timeout for latency in honest))
    if catalog is not None:
        import duckdb

        with duckdb.connect(str(catalog), read_only=True) as con:
            report("rollouts recorded", con.execute("SELECT count(*) FROM rollouts").fetchall()[0][0])
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
