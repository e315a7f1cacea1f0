"""Runs of several callers through one sandbox (`Sandbox.run`, `SandboxPool.lease`): they take
turns in the order asked for, the next one's request waiting in the zygote, and every caller
gets the answer to its own run, also when the zygote dies with a request waiting in it."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace

import pytest

from srpo.sandbox import AssertRun, SandboxPool, ScriptRun
from srpo.sandbox.inside import frames
from srpo.sandbox.runs import request_for
from srpo.sandbox.worker import AHEAD_MAX_BYTES
from tests.sandbox.conftest import FAST


@pytest.fixture(scope="module")
def single() -> Iterator[SandboxPool]:
    with SandboxPool(1) as sandboxes:
        yield sandboxes


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    results: list[object] = [None] * count

    def one(index: int) -> None:
        results[index] = work(index)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_many_callers_on_one_sandbox_each_get_their_own_answer(single):
    sandbox = single.sandboxes[0]

    def caller(index: int) -> list[str]:
        seen = []
        for step in range(15):
            # Some runs are too large to wait in the zygote's pipe: they are written at their turn.
            padding = "#" * (AHEAD_MAX_BYTES if (index + step) % 5 == 0 else 0)
            source = f"{padding}\nimport sys\nprint({index} * 1000 + {step}, sys.stdin.read())\n"
            result = sandbox.run(ScriptRun(source=source, stdin=f"in-{index}-{step}"), FAST)
            seen.append(result.stdout)
        return seen

    for index, seen in enumerate(in_threads(4, caller)):
        assert seen == [f"{index * 1000 + step} in-{index}-{step}\n" for step in range(15)]


def test_assert_runs_of_two_callers_keep_their_own_verdicts(single):
    sandbox = single.sandboxes[0]
    tests = "def check(candidate):\n    assert candidate() == 1\n"

    def caller(index: int) -> list[tuple[str, int, int]]:
        verdicts = []
        for step in range(20):
            value = 1 if (index + step) % 3 else 2
            run = AssertRun(source=f"def f():\n    return {value}\n", tests=tests, entry_point="f")
            result = sandbox.run(run, FAST)
            verdicts.append((result.outcome, result.asserts.passed, result.asserts.failed))
        return verdicts

    for index, verdicts in enumerate(in_threads(2, caller)):
        expected = [(1, 0) if (index + step) % 3 else (0, 1) for step in range(20)]
        assert [(passed, failed) for _, passed, failed in verdicts] == expected
        assert all(outcome == "exited" for outcome, _, _ in verdicts)


def test_a_request_waiting_in_a_zygote_that_dies_is_run_by_the_next_one(single):
    sandbox = single.sandboxes[0]
    sandbox.run(ScriptRun(source="pass"), FAST)  # started
    starts = sandbox.starts
    outcomes: dict[str, object] = {}

    def run(name: str, source: str) -> None:
        outcomes[name] = sandbox.run(ScriptRun(source=source), SLOW)

    slow = threading.Thread(target=run, args=("slow", "import time\ntime.sleep(30)\n"))
    slow.start()
    until(lambda: sandbox._head_sent is not None)  # the slow run is in the zygote
    waiting = threading.Thread(target=run, args=("waiting", "print('second')"))
    waiting.start()
    # Its request is written ahead, behind the slow run, into the same zygote.
    until(lambda: sandbox._ahead is not None)
    assert sandbox._ahead[1] is sandbox._process
    os.killpg(sandbox._process.pid, signal.SIGKILL)  # the zygote dies with both in it
    slow.join(timeout=60)
    waiting.join(timeout=60)
    assert outcomes["slow"].outcome == "harness_lost", outcomes["slow"]
    assert outcomes["waiting"].outcome == "exited" and outcomes["waiting"].stdout == "second\n"
    assert sandbox.starts == starts + 1


SLOW = replace(FAST, timeout_s=60.0, total_timeout_s=60.0)


def until(condition: Callable[[], bool], within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


def test_an_answer_out_of_step_with_its_request_is_refused_and_the_sandbox_restarted(single):
    sandbox = single.sandboxes[0]
    sandbox.run(ScriptRun(source="pass"), FAST)
    starts = sandbox.starts
    # A request nobody waits for, as if the parent had lost count: its answer comes first.
    stray = request_for(ScriptRun(source="print('stray')"), nonce="0" * 32, limits=FAST.for_request())
    frames.write_all(sandbox._process.stdin.fileno(), frames.encode_frame(stray))
    result = sandbox.run(ScriptRun(source="print('mine')"), FAST)
    assert result.outcome == "sandbox_error" and "answered another request" in result.detail, result
    assert "stray" not in result.stdout
    after = sandbox.run(ScriptRun(source="print('mine')"), FAST)
    assert after.stdout == "mine\n" and sandbox.starts == starts + 1


def test_the_pool_shares_each_sandbox_with_at_most_two_callers():
    with SandboxPool(2) as pool, ExitStack() as held:
        assert pool.callers == 4
        leased = [held.enter_context(pool.lease()) for _ in range(4)]
        assert sorted(leased.count(sandbox) for sandbox in pool.sandboxes) == [2, 2]
        fifth: list[object] = []
        waiting = threading.Thread(target=lambda: fifth.append(pool.run(ScriptRun(source="print(5)"), FAST)))
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive() and not fifth  # every sandbox has two callers: it waits
        held.close()
        waiting.join(timeout=30)
        assert fifth[0].stdout == "5\n"


def test_a_kill_by_the_pool_ceiling_relabels_only_a_run_that_did_not_end_cleanly(tmp_path):
    """The leaf's kill count (a plain folder standing in for cgroupfs) rises; it may include a
    kill of the run written ahead, so a run that exited cleanly keeps its own verdict."""
    from srpo.sandbox.isolation import plan_isolation
    from srpo.sandbox.worker import Sandbox

    leaf = tmp_path / "leaf"
    leaf.mkdir()
    events = leaf / "memory.events"
    events.write_text("oom 0\noom_kill 3\n")  # kills before this sandbox started are not its own
    sandbox = Sandbox(plan_isolation(), cgroup=str(leaf))
    try:
        assert sandbox.run(ScriptRun(source="print(1)"), FAST).outcome == "exited"
        events.write_text("oom 1\noom_kill 4\n")
        clean = sandbox.run(ScriptRun(source="print(2)"), FAST)
        assert clean.outcome == "exited" and clean.stdout == "2\n"
        events.write_text("oom 2\noom_kill 5\n")
        killed = sandbox.run(
            ScriptRun(source="import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"), FAST
        )
        assert killed.outcome == "memory" and "memory ceiling" in killed.detail, killed
        after = sandbox.run(ScriptRun(source="import sys\nsys.exit(3)\n"), FAST)
        assert after.outcome == "exited" and after.exit_code == 3  # no new kill: its own verdict
    finally:
        sandbox.stop()
