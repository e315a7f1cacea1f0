"""Worker processes whose time limit is enforced by the parent, which kills a worker that runs
past it.

sympy and the LaTeX parser can hang (`9^{9^{9^9}}`, deep nesting) and math-verify's own
timeouts use `signal.alarm`, which only works in the main thread and not at all in a
C-level loop. Here a pebble process pool kills the worker instead, and a new one takes its place.

Work goes out in chunks so that inter-process traffic stays small. A chunk that runs past the
limit, or whose worker dies, is split up: each of its items is run again alone under the
per-item limit, so one pathological item costs its own timeout and never loses the results of
the others. Workers are forked from a forkserver that has already imported sympy, so
replacing a killed worker takes milliseconds instead of a second of imports.

Covers: chunking, deadlines, retries one by one, memory limits, progress callbacks.
Does not cover: what the work is (see `worker` for the functions that run inside).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Any, Literal

FailureKind = Literal["timeout", "crashed", "error"]
PRELOAD = ["srpo.verify.math.worker"]  # imports sympy and warms the LaTeX parser


@dataclass(frozen=True, kw_only=True)
class PoolOptions:
    """How grading work is run."""

    workers: int = 2
    """Worker processes (the parent only extracts answers and decides plain numbers)."""
    timeout_s: float = 5.0
    """Hard limit per item; the worker running an item past it is killed."""
    memory_mb: int | None = 4096
    """Address-space limit per worker (RLIMIT_AS); None for no limit."""
    chunk_size: int = 16
    """Items sent to a worker at once."""
    tasks_per_worker: int = 500
    """Chunks a worker runs before it is replaced (sympy's caches only grow)."""

    def validate(self) -> None:
        from srpo.errors import InputError

        if self.workers < 1:
            raise InputError(f"grader.workers (--workers) must be at least 1, got {self.workers}")
        if not self.timeout_s > 0:
            raise InputError(f"grader.timeout_s (--timeout) must be positive, got {self.timeout_s}")


@dataclass(frozen=True, slots=True)
class Failure:
    """An item that produced no result: it ran out of time, killed its worker, or raised."""

    kind: FailureKind
    detail: str


def _limit_memory(memory_mb: int | None) -> None:
    if memory_mb is None:
        return
    import resource

    limit = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _run_chunk(function: Callable[[Any], Any], chunk: Sequence[Any]) -> list[Any]:
    """Inside a worker: one item's exception is that item's failure, not the chunk's."""
    results: list[Any] = []
    for item in chunk:
        try:
            results.append(function(item))
        except MemoryError:
            results.append(Failure("crashed", "ran out of memory"))
        except Exception as error:
            results.append(Failure("error", f"{type(error).__name__}: {error}"[:300]))
    return results


def _context() -> Any:
    """A forkserver that has imported sympy: fast worker restarts, no fork of a threaded parent."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


class WorkerPool:
    """A pool that stays warm between calls to `run` (the trainer grades every step)."""

    def __init__(self, options: PoolOptions) -> None:
        from pebble import ProcessPool

        options.validate()
        self.options = options
        self._pool = ProcessPool(
            max_workers=options.workers,
            max_tasks=options.tasks_per_worker,
            initializer=_limit_memory,
            initargs=(options.memory_mb,),
            context=_context(),
        )

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.stop()
        self._pool.join()

    def run(
        self,
        function: Callable[[Any], Any],
        items: Iterable[Any],
        *,
        on_done: Callable[[int], None] | None = None,
    ) -> list[Any]:
        """`function(item)` for every item, in order; a Failure where an item produced none.

        `items` may be a generator: each chunk is sent to a worker as soon as it is full, so
        the workers start while the caller is still producing the rest.
        """
        taken: list[Any] = []
        pending = {}
        size = max(1, self.options.chunk_size)
        for item in items:
            taken.append(item)
            if len(taken) % size == 0:
                pending[self._schedule(function, taken[-size:])] = (len(taken) - size, size)
        if len(taken) % size:
            rest = len(taken) % size
            pending[self._schedule(function, taken[-rest:])] = (len(taken) - rest, rest)
        results: list[Any] = [None] * len(taken)
        retry: list[int] = []
        for future, (start, count) in self._as_completed(pending):
            try:
                results[start : start + count] = future.result()
            except Exception:
                retry.extend(range(start, start + count))  # timed out or died: one by one
                continue
            if on_done:
                on_done(count)
        self._run_alone(function, taken, retry, results, on_done)
        return results

    def _schedule(self, function: Callable[[Any], Any], chunk: list[Any]) -> Any:
        return self._pool.schedule(_run_chunk, args=(function, chunk), timeout=self.options.timeout_s)

    def _run_alone(
        self,
        function: Callable[[Any], Any],
        items: Sequence[Any],
        indices: list[int],
        results: list[Any],
        on_done: Callable[[int], None] | None,
    ) -> None:
        pending = {self._schedule(function, [items[i]]): (i, 1) for i in indices}
        for future, (index, _) in self._as_completed(pending):
            results[index] = self._single_result(future)
            if on_done:
                on_done(1)

    def _single_result(self, future: Any) -> Any:
        from pebble import ProcessExpired

        try:
            return future.result()[0]
        except FutureTimeout:
            return Failure("timeout", f"no result within {self.options.timeout_s:g}s; worker killed")
        except ProcessExpired as error:
            return Failure("crashed", f"worker died (exit code {error.exitcode})")
        except Exception as error:
            return Failure("error", f"{type(error).__name__}: {error}"[:300])

    @staticmethod
    def _as_completed(pending: dict[Any, tuple[int, int]]):
        remaining = set(pending)
        while remaining:
            done, remaining = wait(remaining, return_when="FIRST_COMPLETED")
            for future in done:
                yield future, pending[future]
