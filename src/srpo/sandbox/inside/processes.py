"""Finding, measuring and killing what a run left behind, from the zygote.

In a PID namespace the zygote is PID 1: every process but itself belongs to the run, `kill(-1)`
reaches them all (new sessions included), and orphans are re-parented to it for reaping. Without a
PID namespace the zygote is a child subreaper and walks the process tree under itself instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import NamedTuple

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    return text[text.rfind(")") + 2 :].split()


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _children(pid: int) -> list[int] | None:
    """Direct children from /proc/PID/task/*/children, or None where the kernel lacks it."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as handle:
                found.extend(int(child) for child in handle.read().split())
        except FileNotFoundError:
            return None
        except OSError:
            continue
    return found


def _descendants_by_scan(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(pid)
    found, frontier = [], [root]
    while frontier:
        kids = children.get(frontier.pop(), [])
        found.extend(kids)
        frontier.extend(kids)
    return found


def children_of(pid: int) -> list[int]:
    """Direct children of `pid`, however the kernel lets us find them."""
    found = _children(pid)
    if found is None:
        found = [child for child in _descendants_by_scan(pid) if _parent(child) == pid]
    return found


def _parent(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields is not None else None


def descendants(root: int) -> list[int]:
    """Every process under `root` (following the tree, not scanning every process here)."""
    found, frontier = [], [root]
    while frontier:
        kids = _children(frontier.pop())
        if kids is None:
            return _descendants_by_scan(root)
        found.extend(kids)
        frontier.extend(kids)
    return found


def run_pids(in_pid_namespace: bool) -> list[int]:
    me = os.getpid()
    return [pid for pid in _all_pids() if pid != me] if in_pid_namespace else descendants(me)


class Usage(NamedTuple):  # not a dataclass: see asserts.PreparedTests
    private_bytes: int
    tasks: int


def usage(in_pid_namespace: bool) -> Usage:
    """Private resident memory and threads of every process of the run, summed."""
    private, tasks = 0, 0
    for pid in run_pids(in_pid_namespace):
        fields = _stat_fields(pid)
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                statm = handle.read().split()
        except OSError:
            continue
        if fields is not None:
            tasks += int(fields[17])  # num_threads
        private += (int(statm[1]) - int(statm[2])) * _PAGE  # resident minus file-backed/shared
    return Usage(private_bytes=private, tasks=tasks)


def reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _childless() -> bool:
    """This (single-threaded) process has no child, not even a zombie: one small read, where
    `kill(-1)` would raise (an exception costs the zygote dozens of copied pages)."""
    try:
        fd = os.open("/proc/thread-self/children", os.O_RDONLY)
    except OSError:
        return False
    try:
        return not os.read(fd, 1)
    finally:
        os.close(fd)


def kill_all(in_pid_namespace: bool) -> None:
    """SIGKILL every process of the run and reap them; returns when none is left."""
    if in_pid_namespace:
        # As PID 1, every process left here is a child of ours (orphans are re-parented to us).
        while not _childless():
            try:
                os.kill(-1, signal.SIGKILL)  # all but ourselves (PID 1)
            except ProcessLookupError:
                return
            try:
                while True:
                    os.waitpid(-1, 0)  # every process here is ours to reap
            except ChildProcessError:
                pass
    else:
        for _ in range(1000):
            pids = descendants(os.getpid())
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            reap_all()
            os.sched_yield()
        reap_all()


def tasks_of_user(uid: int) -> int:
    """Threads owned by `uid` on this machine (RLIMIT_NPROC counts them all without a namespace)."""
    total = 0
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/status", "rb") as handle:
                status = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("Threads", "1").strip())
    return total
