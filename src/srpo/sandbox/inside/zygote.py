"""The zygote: a long-lived interpreter in the sandbox that forks one child per run.

Start-up (once per sandbox, see `startup`): it moves its control channel off fds 0 and 1, makes
itself non-dumpable (a program running as the same user cannot ptrace it or read its memory),
preloads the standard modules that programs and tests use (children share those pages), installs
the seccomp filter on itself (children inherit it), and warms the harness up on srpo's own
programs. Then, for each request: make what the child needs before the fork (its rlimits, the
compiled tests and program, its `__main__`, a fresh `random` seed, the pipes), fork a child that
runs the program (`harness`), supervise it (`supervise`), kill and reap everything it started,
wipe the scratch directories, and answer.
The zygote never runs a caller's code: it compiles programs of up to
`harness.PRECOMPILE_MAX_CHARS` (compiling runs nothing; a source that crashed the compiler would
end this zygote, and srpo counts the run as lost and starts another), so each run starts from the
same clean state.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from typing import Any

from srpo.sandbox.inside import asserts, frames, harness, integrity, processes, scratch, startup, supervise

_USER_TASKS_TTL_S = 1.0


class Zygote:
    def __init__(self, config: dict[str, Any]) -> None:
        self.workdir: str = config["workdir"]
        self.wipe_folders: list[str] = [self.workdir, *config.get("wipe", [])]
        self.in_pid_namespace = os.getpid() == 1
        self.tasks_before = int(config.get("tasks_before", 1))
        self.dumpable_off = startup.prctl(startup.PR_SET_DUMPABLE, 0)
        if not self.in_pid_namespace:
            startup.prctl(startup.PR_SET_CHILD_SUBREAPER, 1)
        # As PID 1, signals without a handler are dropped: remove Python's SIGINT handler.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.path.extend(path for path in config.get("path", []) if path not in sys.path)
        self.fork_hooks = startup.preload(startup.PRELOAD)
        # The zygote needs none of the calls the filter refuses, so it installs it on itself
        # once and every child inherits it (one prctl less per run).
        self.seccomp = startup.install_seccomp() if config.get("seccomp", True) else False
        self.baseline = integrity.Baseline(startup.PRELOAD)
        self.hard_limits = harness.hard_limits()
        reporter = harness.Reporter(harness.REPORT_FD)
        self.setup = {
            "baseline": self.baseline,
            "reporter": reporter,
            "no_prelude": integrity.PreludeSnapshot({}),
        }
        self._user_tasks = (0.0, 0)  # (when counted, count): see _process_allowance
        self.fork = startup.fork_function()

    def hello(self) -> dict[str, Any]:
        return {
            "ready": True,
            "pid": os.getpid(),
            "uid": os.getuid(),
            "python": sys.version.split()[0],
            "pid_namespace": self.in_pid_namespace,
            "seccomp": self.seccomp,
            "non_dumpable": self.dumpable_off,
            "plain_fork": self.fork is not os.fork,
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
        self.baseline.test_modules(prepared.names)
        return prepared

    def setup_for(self, request: dict[str, Any]) -> dict[str, Any]:
        """What the child of this run starts with, made before the fork: its rlimits, the compiled
        tests (cached) and program (`harness.precompile`), and its own `__main__`."""
        limits = request["limits"]
        allowance = self._process_allowance(int(limits["max_processes"]))
        program, compile_warnings = harness.precompile(str(request.get("source") or ""))
        return {
            **self.setup,
            "rlimits": harness.limits_plan(limits, allowance, self.hard_limits),
            "prepared": self._prepare(request),
            "program": program,
            "compile_warnings": compile_warnings,
            "main": harness.fresh_module(),
        }

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        limits = request["limits"]
        setup = self.setup_for(request)
        os.chdir(self.workdir)  # the child starts there (the folder may have been made anew)
        pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, report
        child_ends = (pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1])
        parent_ends = (pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0])
        setup["start"] = harness.start_calls(child_ends, setup["rlimits"])
        stdin_data = str(request.get("stdin") or "").encode("utf-8", "surrogateescape")
        watch = supervise.Supervision(parent_ends, stdin_data, limits, self.in_pid_namespace)
        for hook in self.fork_hooks:
            hook()
        # The child's `__main__`, registered here, where writing to `sys.modules` costs no copied
        # page; it stays registered in the zygote until the next run's replaces it.
        sys.modules["__main__"] = setup["main"]
        # Objects that exist now are never collected by a child's GC, which would touch (and so
        # copy) every page they live on.
        gc.freeze()
        try:
            pid = self.fork()
        except OSError:
            for fd in child_ends:
                os.close(fd)
            watch.close()
            raise
        if pid == 0:
            harness.child_main(request, setup)
        for fd in child_ends:
            os.close(fd)
        answer = watch.follow(pid)  # every process of the run is killed and reaped by now
        try:
            for folder in self.wipe_folders:
                scratch.empty(folder)
        except Exception as error:  # e.g. a folder it cannot empty: srpo replaces this sandbox
            answer["retire"] = f"clean-up failed: {type(error).__name__}: {error}"
        return answer


def main() -> None:
    # Read by the dynamic linker at start-up only (see `srpo.sandbox.isolation`): programs need
    # not see it.
    os.environ.pop("LD_BIND_NOW", None)
    control_in, control_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    config = frames.read_frame(control_in)
    zygote = Zygote(config)
    startup.warm_up(zygote.setup_for)
    zygote.baseline.seal()  # after the warm-up: the builtins as every child will find them
    startup.compact()
    frames.write_frame(control_out, zygote.hello())
    while True:
        request = frames.read_frame(control_in)
        if request is None:
            return
        try:
            answer = zygote.run(request)
        except Exception as error:  # a run it cannot account for: report it, and stop
            answer = {"outcome": "harness_error", "error": f"{type(error).__name__}: {error}", "retire": True}
        answer["request"] = request.get("nonce")  # the parent checks answers keep step with requests
        frames.write_frame(control_out, answer)
        if answer.get("retire"):
            return  # whatever is left (processes, files) dies with this namespace
