"""A pool of sandboxes, one per worker, each leased to up to `CALLERS_PER_SANDBOX` callers at once.

A sandbox runs one program at a time, so a program's runs never overlap another program's in the
same namespaces. Its second caller's request waits in the sandbox while the first caller's
program runs (`Sandbox.run`), so the sandbox starts it the moment it has answered, instead of
idling while the caller's thread judges the answer and asks again: `callers` threads keep the
pool busy. `shared_pool` keeps one pool per (size, options) for the whole process, started on
first use and stopped at exit, so a trainer calling the reward every step pays the sandbox
start-up once.
"""

from __future__ import annotations

import atexit
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from srpo.sandbox.cgroups import PoolCeiling, default_limit_bytes
from srpo.sandbox.isolation import IsolationPlan, plan_isolation, require_minimum
from srpo.sandbox.limits import DEFAULT_LIMITS, DEFAULT_OPTIONS, Limits, SandboxOptions
from srpo.sandbox.runs import Run, RunResult
from srpo.sandbox.worker import Sandbox

CALLERS_PER_SANDBOX = 2


class WeakIsolationWarning(RuntimeWarning):
    """Programs run with less than bubblewrap's isolation; the message says what is missing."""


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _warn_if_weak(plan: IsolationPlan) -> None:
    if plan.level == "bwrap":
        return
    why = "as asked" if plan.options.level == plan.level else "; ".join(plan.notes)
    why += f"; allowed by min_isolation={plan.options.min_isolation!r}"
    warnings.warn(
        f"srpo sandbox: isolation level {plan.level!r}, not bwrap ({why}). "
        "Run `srpo-curate doctor` for what that leaves open.",
        WeakIsolationWarning,
        stacklevel=3,
    )


class SandboxPool:
    """`size` sandboxes under one isolation plan; safe to use from many threads.

    Raises IsolationBelowMinimum, before starting anything, when the plan is weaker than
    `options.min_isolation`."""

    def __init__(self, size: int | None = None, options: SandboxOptions = DEFAULT_OPTIONS) -> None:
        self.size = size or available_cpus()
        self.plan = plan_isolation(options)
        require_minimum(self.plan)
        _warn_if_weak(self.plan)
        limit = (options.total_memory_mb << 20) if options.total_memory_mb else default_limit_bytes()
        self.ceiling, self.memory_ceiling = PoolCeiling.create(limit)
        """A cgroup over all this pool's sandboxes (None: each run is capped, not their sum), and
        a line saying which."""
        self._all = [
            Sandbox(self.plan, cgroup=self.ceiling.leaf(index) if self.ceiling else None)
            for index in range(self.size)
        ]
        self._holders = [0] * self.size
        self._free = threading.Condition()
        self._closed = False

    @property
    def isolation(self) -> str:
        return self.plan.level

    @property
    def sandboxes(self) -> tuple[Sandbox, ...]:
        return tuple(self._all)

    @property
    def callers(self) -> int:
        """How many threads keep every sandbox busy (two per sandbox: see the module docstring)."""
        return self.size * CALLERS_PER_SANDBOX

    @contextmanager
    def lease(self) -> Iterator[Sandbox]:
        """The sandbox with the fewest callers, shared with at most one other caller until the
        block ends; its runs and theirs take turns, in the order they were asked for."""
        if self._closed:
            raise RuntimeError("this SandboxPool is closed")
        with self._free:
            self._free.wait_for(lambda: min(self._holders) < CALLERS_PER_SANDBOX)
            index = self._holders.index(min(self._holders))
            self._holders[index] += 1
        try:
            yield self._all[index]
        finally:
            with self._free:
                self._holders[index] -= 1
                self._free.notify()

    def run(self, run: Run, limits: Limits = DEFAULT_LIMITS) -> RunResult:
        with self.lease() as sandbox:
            return sandbox.run(run, limits)

    def close(self) -> None:
        self._closed = True
        for sandbox in self._all:
            sandbox.stop()
        if self.ceiling is not None:
            self.ceiling.remove()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_shared: dict[tuple[int, SandboxOptions], SandboxPool] = {}
_shared_lock = threading.Lock()


def shared_pool(size: int | None = None, options: SandboxOptions = DEFAULT_OPTIONS) -> SandboxPool:
    """The process-wide pool for these settings (created on first use, closed at exit)."""
    key = (size or available_cpus(), options)
    with _shared_lock:
        pool = _shared.get(key)
        if pool is None:
            if not _shared:
                atexit.register(close_shared_pools)
            pool = _shared[key] = SandboxPool(key[0], options)
        return pool


def close_shared_pools() -> None:
    with _shared_lock:
        for pool in _shared.values():
            pool.close()
        _shared.clear()
