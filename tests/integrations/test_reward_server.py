"""`srpo-reward-server` speaking OpenRLHF's `--remote_rm_url` protocol on loopback: the rewards of
`srpo-curate grade`, every request answered (bad ones with a one-line 400), hostile programs
rewarded 0 without holding up the others, completions recorded in the catalog."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from srpo.integrations.config import RunConfig
from srpo.integrations.openrlhf import ServerConfig, start_server, stop_server
from srpo.train.config import DataConfig
from srpo.verify.config import GraderConfig
from tests.helpers import run_cli

from .conftest import HELLO, make_catalog, problem_ids, query

PROMPT = "<|im_start|>user\nWhat is 3 + 4?<|im_end|>\n<|im_start|>assistant\n"
LOOP = "```python\nwhile True:\n    pass\n```"


def post(port: int, payload, *, raw: bytes | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        body = raw if raw is not None else json.dumps(payload).encode()
        connection.request("POST", "/get_reward", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def one(port: int, response: str, label, prompt: str = PROMPT) -> float:
    status, answer = post(
        port, {"query": [prompt + response + "<|im_end|>"], "prompts": [prompt], "labels": [label]}
    )
    assert status == 200, answer
    assert answer["rewards"] == answer["scores"] and len(answer["rewards"]) == 1
    return answer["rewards"][0]


@pytest.fixture
def served(tmp_path):
    catalog = make_catalog(tmp_path)
    export = run_cli("query", "--catalog", str(catalog.path), "--export", "openrlhf")
    assert export.returncode == 0, export.stderr
    labels = {
        json.loads(row["srpo_label"])["problem_id"]: row["srpo_label"]
        for row in map(json.loads, export.stdout.splitlines())
    }
    config = ServerConfig(
        port=0, record=True, samples_per_prompt=2, grader=GraderConfig(workers=2, timeout_s=4.0),
        run=RunConfig(catalog=str(catalog.path), run_id="rm-test", write_interval_s=0.2, store_responses=True,
                      data=DataConfig(include_unrated=True)),
    )  # fmt: skip
    server = start_server(config)
    try:
        yield server, catalog, labels
    finally:
        stop_server(server)


def test_the_protocol_and_the_labels_it_reads(served):
    server, catalog, labels = served
    port = server.server_address[1]
    ids = problem_ids(catalog)
    seven, code = labels[ids["seven0"]], labels[ids["code"]]
    assert one(port, "So \\boxed{7}.", seven) == 1.0
    assert one(port, "So \\boxed{8}.", seven) == 0.0
    assert one(port, "I do not know.", seven) == 0.0
    assert one(port, HELLO, code) == 1.0
    assert one(port, "```python\nprint('bye')\n```", code) == 0.0
    # A plain gold answer, srpo's tests JSON, and a problem id alone (gold from the catalog).
    assert one(port, "\\boxed{7}", "7") == 1.0
    assert (
        one(port, HELLO, json.dumps({"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]})) == 1.0
    )
    assert one(port, HELLO, json.dumps({"problem_id": ids["code"]})) == 1.0
    # The prompt's own words are not graded: a box in the prompt is not the response's answer.
    boxed_prompt = "Answer in \\boxed{7} form.\n"
    assert one(port, "no idea", "7", prompt=boxed_prompt) == 0.0
    # Several items in one request (older OpenRLHF batches them), answered in order.
    status, answer = post(port, {"query": ["\\boxed{7}", "\\boxed{8}", HELLO], "labels": ["7", "7", code]})
    assert status == 200 and answer["rewards"] == [1.0, 0.0, 1.0]
    assert answer["extra_logs"] == {"accuracy": [1.0, 0.0, 1.0]}


def test_bad_requests_get_one_line_errors(served):
    server, _, _ = served
    port = server.server_address[1]
    cases = [
        (None, b"{not json", "not valid JSON"),
        ({"query": ["a"]}, None, "field 'labels': missing"),
        ({"query": ["a", "b"], "labels": ["1"]}, None, "field 'labels': 1 values for 2 queries"),
        ({"query": "a", "labels": "1", "prompts": 3}, None, "field 'prompts': expected a list"),
        ([1, 2], None, "must be a JSON object"),
    ]
    for payload, raw, message in cases:
        status, answer = post(port, payload, raw=raw)
        assert status == 400 and message in answer["error"] and "\n" not in answer["error"]
    health = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    health.request("GET", "/health")
    reply = json.loads(health.getresponse().read())
    assert reply["status"] == "ok" and reply["run_id"] == "rm-test" and reply["isolation"]


def test_hostile_programs_cost_only_their_own_time(served):
    """Two looping programs each hold a sandbox for its time limit (4 s); meanwhile the other
    requests, math and code, are all answered (before the loops end)."""
    server, catalog, labels = served
    port = server.server_address[1]
    ids = problem_ids(catalog)
    finished: dict[str, list[float]] = {"hostile": [], "honest": []}
    lock = threading.Lock()

    def request(kind: str, response: str, label: str, expected: float) -> None:
        reward = one(port, response, label)
        assert reward == expected
        with lock:
            finished[kind].append(time.monotonic())

    with ThreadPoolExecutor(16) as pool:
        hostile = [pool.submit(request, "hostile", LOOP, labels[ids["code"]], 0.0) for _ in range(1)]
        time.sleep(0.2)  # the loop is running when the others arrive
        honest = [
            pool.submit(request, "honest", *case)
            for _ in range(10)
            for case in (("\\boxed{7}", labels[ids["seven1"]], 1.0), ("\\boxed{7}", labels[ids["eight0"]], 0.0),
                         (HELLO, labels[ids["code"]], 1.0), ("\\boxed{x}", labels[ids["seven2"]], 0.0))
        ]  # fmt: skip
        for future in [*hostile, *honest]:
            future.result()
    assert len(finished["honest"]) == 40 and len(finished["hostile"]) == 1
    assert max(finished["honest"]) < min(finished["hostile"])


def test_completions_are_recorded_and_next_epoch_answers(served):
    server, catalog, labels = served
    port = server.server_address[1]
    ids = problem_ids(catalog)
    # samples_per_prompt=2: the first two completions of a problem are epoch 0, the next two epoch 1.
    for response in ("\\boxed{7}", "\\boxed{7}", "\\boxed{7}", "\\boxed{8}"):
        one(port, response, labels[ids["seven0"]])
    for response in ("\\boxed{7}", "\\boxed{8}"):
        one(port, response, labels[ids["seven1"]])
    for response in ("\\boxed{7}", "\\boxed{7}"):
        one(port, response, labels[ids["seven2"]])
    one(port, "\\boxed{7}", "7")  # no problem id: graded, not recorded
    stop_server(server)
    rows = query(catalog, "SELECT problem_id, epoch, sample_idx, reward, status, response FROM rollouts "
                          "WHERE run_id = 'rm-test' ORDER BY problem_id, epoch, sample_idx")  # fmt: skip
    got = [(pid, e, s, r, st) for pid, e, s, r, st, _ in rows]
    assert sorted(got) == sorted([
        (ids["seven0"], 0, 0, 1.0, "correct"), (ids["seven0"], 0, 1, 1.0, "correct"),
        (ids["seven0"], 1, 0, 1.0, "correct"), (ids["seven0"], 1, 1, 0.0, "wrong"),
        (ids["seven1"], 0, 0, 1.0, "correct"), (ids["seven1"], 0, 1, 0.0, "wrong"),
        (ids["seven2"], 0, 0, 1.0, "correct"), (ids["seven2"], 0, 1, 1.0, "correct"),
    ])  # fmt: skip
    assert all(response.startswith("\\boxed{") for *_, response in rows)
    histories = dict(
        query(
            catalog, "SELECT problem_id, history FROM epoch_problems WHERE run_id = 'rm-test' AND epoch = 1"
        )
    )
    assert histories == {ids["seven0"]: "solved"}  # drawn again though all of epoch 0 was correct
    ((status, notes),) = query(catalog, "SELECT status, notes FROM runs WHERE run_id = 'rm-test'")
    assert status == "completed" and json.loads(notes)["unrecorded"] == 1
    result = run_cli("query", "--catalog", str(catalog.path), "--next-epoch", "rm-test", "-f", "jsonl")
    assert result.returncode == 0, result.stderr
    shown = {json.loads(line)["problem_id"] for line in result.stdout.splitlines()}
    # seven0 (mixed in epoch 1) and seven1 (mixed) stay; seven2 (solved) is dropped; the
    # problems never served are new.
    assert shown == set(ids.values()) - {ids["seven2"]}


def test_the_command_serves_until_sigterm(toy_catalog):
    process = subprocess.Popen(
        [sys.executable, "-m", "srpo.integrations.openrlhf", "--port", "0", "--catalog", str(toy_catalog.path),
         "--run-id", "rm-cli", "--workers", "1"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stderr.readline()
        while "srpo-reward-server: http://" not in first:
            assert process.poll() is None, first
            first = process.stderr.readline()
        port = int(first.split("http://127.0.0.1:")[1].split("/")[0])
        assert "recording run rm-cli" in first
        assert one(port, "\\boxed{7}", "7") == 1.0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert "1 requests, 1 responses graded" in process.stderr.read()
    finally:
        process.kill()
    ((status,),) = query(toy_catalog, "SELECT status FROM runs WHERE run_id = 'rm-cli'")
    assert status == "completed"
    bad = run_cli(
        "--samples-per-prompt", "0", "--catalog", str(toy_catalog.path), module="srpo.integrations.openrlhf"
    )
    assert bad.returncode != 0 and "--samples-per-prompt" in bad.stderr
    with socket.socket() as taken:  # a port someone else listens on
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = run_cli("--port", str(taken.getsockname()[1]), "--catalog", str(toy_catalog.path), "--record",
                       module="srpo.integrations.openrlhf")  # fmt: skip
    assert busy.returncode == 1 and "srpo-reward-server: cannot listen" in busy.stderr
    assert query(toy_catalog, "SELECT count(*) FROM runs") == [(1,)]  # no run row for the failed start
    helped = run_cli("--help", module="srpo.integrations.openrlhf")
    assert (
        helped.returncode == 0
        and "--remote_rm_url" in helped.stdout
        and "--samples-per-prompt" in helped.stdout
    )
