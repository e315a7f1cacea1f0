"""The worker pool: order, parent-enforced timeouts, crashes and errors stay with their item."""

from __future__ import annotations

import time

import pytest

from srpo.errors import InputError
from srpo.verify.pool import Failure, PoolOptions, WorkerPool

from . import pool_tasks


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(PoolOptions(workers=2, timeout_s=1.0, chunk_size=4)) as warm:
        yield warm


def test_results_come_back_in_input_order(pool):
    done = []
    results = pool.run(pool_tasks.square, list(range(50)), on_done=done.append)
    assert results == [n * n for n in range(50)]
    assert sum(done) == 50


def test_a_hanging_item_times_out_alone_and_its_chunk_mates_finish(pool):
    items = ["a", "b", "hang", "c", "d", "e"]
    started = time.monotonic()
    results = pool.run(pool_tasks.hang_on, items)
    elapsed = time.monotonic() - started
    assert results[:2] == ["A", "B"] and results[3:] == ["C", "D", "E"]
    assert isinstance(results[2], Failure) and results[2].kind == "timeout"
    # the chunk's deadline, then the item alone: about two timeouts, never a hang
    assert elapsed < 20


def test_a_worker_that_dies_fails_only_its_item(pool):
    results = pool.run(pool_tasks.die_on, ["x", "die", "y"])
    assert results[0] == "X" and results[2] == "Y"
    assert isinstance(results[1], Failure) and results[1].kind == "crashed"
    assert "exit code 3" in results[1].detail


def test_an_exception_fails_only_its_item(pool):
    results = pool.run(pool_tasks.raise_on, ["x", "raise", "y"])
    assert results[0] == "X" and results[2] == "Y"
    assert results[1] == Failure("error", "ValueError: bad item")


def test_the_pool_keeps_working_after_killing_workers(pool):
    pool.run(pool_tasks.hang_on, ["hang"])
    assert pool.run(pool_tasks.square, [3, 4]) == [9, 16]


def test_memory_limit_turns_a_huge_allocation_into_a_failure():
    with WorkerPool(PoolOptions(workers=1, timeout_s=10.0, memory_mb=600)) as limited:
        results = limited.run(pool_tasks.eat_memory, [1, 4000, 2])
    assert results[0] == 1024 * 1024 and results[2] == 2 * 1024 * 1024
    assert isinstance(results[1], Failure) and results[1].kind == "crashed"


def test_options_are_checked():
    with pytest.raises(InputError, match="--workers"):
        PoolOptions(workers=0).validate()
    with pytest.raises(InputError, match="--timeout"):
        PoolOptions(timeout_s=0).validate()
