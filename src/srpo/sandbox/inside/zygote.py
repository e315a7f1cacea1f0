"""The zygote: a long-lived interpreter in the sandbox that forks one child per run.

Start-up (once per sandbox): it moves its control channel off fds 0 and 1, makes itself
non-dumpable (a program running as the same user cannot ptrace it or read its memory), preloads
the standard modules that programs and tests use (children share those pages), and installs the
seccomp filter on itself (children inherit it). Then, for each request: fork a child that runs the
program (`harness`), supervise it (`supervise`), kill and reap everything it started, wipe the
scratch directories, and answer.
The zygote never runs program code itself, so each run starts from the same clean state.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import signal
import sys
import time
from typing import Any

from srpo.sandbox.inside import asserts, frames, harness, integrity, processes, scratch, seccomp, supervise

# What programs and tests import most; children share these pages instead of loading them.
# fmt: off
PRELOAD = ("bisect", "cmath", "collections", "copy", "datetime", "decimal", "fractions",
           "functools", "heapq", "itertools", "json", "math", "operator", "random", "re",
           "statistics", "string", "typing")
# fmt: on
_USER_TASKS_TTL_S = 1.0
_PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 4, 36


def _prctl(option: int, value: int) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, value, 0, 0, 0) == 0


def _install_seccomp() -> bool:
    bpf = seccomp.build()
    if bpf is None:
        return False
    bpf.install()  # an OSError stops the start-up: srpo reports the sandbox as broken
    return True


class Zygote:
    def __init__(self, config: dict[str, Any]) -> None:
        self.workdir: str = config["workdir"]
        self.wipe_folders: list[str] = [self.workdir, *config.get("wipe", [])]
        self.in_pid_namespace = os.getpid() == 1
        self.tasks_before = int(config.get("tasks_before", 1))
        self.dumpable_off = _prctl(_PR_SET_DUMPABLE, 0)
        if not self.in_pid_namespace:
            _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        # As PID 1, signals without a handler are dropped: remove Python's SIGINT handler.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.path.extend(path for path in config.get("path", []) if path not in sys.path)
        for name in PRELOAD:
            importlib.import_module(name)
        # The zygote needs none of the calls the filter refuses, so it installs it on itself
        # once and every child inherits it (one prctl less per run).
        self.seccomp = _install_seccomp() if config.get("seccomp", True) else False
        self.baseline = integrity.Baseline(PRELOAD)
        self.hard_limits = harness.hard_limits()
        reporter = harness.Reporter(harness.REPORT_FD)
        self.setup = {"workdir": self.workdir, "baseline": self.baseline, "reporter": reporter}
        self._user_tasks = (0.0, 0)  # (when counted, count): see _process_allowance

    def hello(self) -> dict[str, Any]:
        return {
            "ready": True,
            "pid": os.getpid(),
            "uid": os.getuid(),
            "python": sys.version.split()[0],
            "pid_namespace": self.in_pid_namespace,
            "seccomp": self.seccomp,
            "non_dumpable": self.dumpable_off,
        }

    def _process_allowance(self, max_processes: int) -> int | None:
        uid = os.getuid()
        if uid == 0:
            return None  # RLIMIT_NPROC does not bind root; the task ceiling in `supervise` does
        if self.in_pid_namespace:  # the limit counts this namespace's tasks: us, then the run
            return self.tasks_before + max_processes
        # Without a namespace it counts every task of our user on the machine; counting them
        # scans /proc, so the count is reused for a second.
        counted_at, count = self._user_tasks
        if time.monotonic() - counted_at > _USER_TASKS_TTL_S:
            count = processes.tasks_of_user(uid)
            self._user_tasks = (time.monotonic(), count)
        return count + max_processes

    def _prepare(self, request: dict[str, Any]) -> asserts.PreparedTests | None:
        if request.get("mode") != "assert":
            return None
        tests, prelude = str(request.get("tests") or ""), str(request.get("prelude") or "")
        prepared = asserts.prepare(tests, prelude, str(request.get("entry_point") or ""))
        self.baseline.module_watches(prepared.names)  # once here, not in every child
        return prepared

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        limits = request["limits"]
        allowance = self._process_allowance(int(limits["max_processes"]))
        setup = {**self.setup, "rlimits": harness.limits_plan(limits, allowance, self.hard_limits)}
        setup["prepared"] = self._prepare(request)
        pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, report
        # Objects that exist now are never collected by a child's GC, which would touch (and so
        # copy) every page they live on.
        gc.freeze()
        child_ends = (pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1])
        parent_ends = (pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0])
        pid = os.fork()
        if pid == 0:
            harness.child_main(request, child_ends, setup)
        for fd in child_ends:
            os.close(fd)
        stdin_data = str(request.get("stdin") or "").encode("utf-8", "surrogateescape")
        answer = supervise.supervise(pid, parent_ends, stdin_data, limits, self.in_pid_namespace)
        try:
            processes.kill_all(self.in_pid_namespace)
            for folder in self.wipe_folders:
                scratch.empty(folder)
        except Exception as error:  # e.g. a folder it cannot empty: srpo replaces this sandbox
            answer["retire"] = f"clean-up failed: {type(error).__name__}: {error}"
        return answer


def main() -> None:
    control_in, control_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    config = frames.read_frame(control_in)
    zygote = Zygote(config)
    frames.write_frame(control_out, zygote.hello())
    while True:
        request = frames.read_frame(control_in)
        if request is None:
            return
        try:
            answer = zygote.run(request)
        except Exception as error:  # a run it cannot account for: report it, and stop
            answer = {"outcome": "harness_error", "error": f"{type(error).__name__}: {error}", "retire": True}
        frames.write_frame(control_out, answer)
        if answer.get("retire"):
            return  # whatever is left (processes, files) dies with this namespace
