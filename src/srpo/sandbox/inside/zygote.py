"""The zygote: a long-lived interpreter in the sandbox that forks one child per run.

Start-up (once per sandbox): it moves its control channel off fds 0 and 1, makes itself
non-dumpable (a program running as the same user cannot ptrace it or read its memory), preloads
the standard modules that programs and tests use (children share those pages), and builds the
seccomp filter. Then, for each request: fork a child that runs the program (`harness`), supervise
it (`supervise`), kill and reap everything it started, wipe the scratch directories, and answer.
The zygote never runs program code itself, so each run starts from the same clean state.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import shutil
import signal
import stat
import sys
from typing import Any

from srpo.sandbox.inside import frames, harness, processes, seccomp, supervise

PRELOAD = (
    "abc",
    "array",
    "bisect",
    "cmath",
    "collections",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "fractions",
    "functools",
    "hashlib",
    "heapq",
    "itertools",
    "json",
    "math",
    "operator",
    "random",
    "re",
    "statistics",
    "string",
    "typing",
    "unittest",
)
_PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 4, 36


def _prctl(option: int, value: int) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, value, 0, 0, 0) == 0


def _force_remove(function: Any, path: str, _error: Any) -> None:
    # A program may have taken away its own permissions on a file or folder; give them back.
    try:
        os.chmod(os.path.dirname(path) or ".", stat.S_IRWXU)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
        function(path)
    except OSError:
        pass


def wipe(folder: str) -> None:
    """Empty `folder` (which may have been removed or locked down by a program) and keep it."""
    os.makedirs(folder, exist_ok=True)
    with contextlib.suppress(OSError):  # a mount point owned by someone else is fine as it is
        os.chmod(folder, stat.S_IRWXU)
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, onerror=_force_remove)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                _force_remove(os.unlink, entry.path, None)


class Zygote:
    def __init__(self, config: dict[str, Any]) -> None:
        self.workdir: str = config["workdir"]
        self.wipe_folders: list[str] = [self.workdir, *config.get("wipe", [])]
        self.in_pid_namespace = os.getpid() == 1
        self.dumpable_off = _prctl(_PR_SET_DUMPABLE, 0)
        if not self.in_pid_namespace:
            _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        # As PID 1, signals without a handler are dropped: remove Python's SIGINT handler.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.path.extend(path for path in config.get("path", []) if path not in sys.path)
        for name in PRELOAD:
            importlib.import_module(name)
        self.filter = seccomp.build_filter() if config.get("seccomp", True) else None
        self.setup = {
            "workdir": self.workdir,
            "seccomp": self.filter,
            "watched_modules": [name for name in PRELOAD if name in sys.modules],
            "process_allowance": None,
        }

    def hello(self) -> dict[str, Any]:
        return {
            "ready": True,
            "pid": os.getpid(),
            "uid": os.getuid(),
            "python": sys.version.split()[0],
            "pid_namespace": self.in_pid_namespace,
            "seccomp": self.filter is not None,
            "non_dumpable": self.dumpable_off,
        }

    def _process_allowance(self, max_processes: int) -> int | None:
        uid = os.getuid()
        if uid == 0:
            return None  # RLIMIT_NPROC does not bind root; the task ceiling in `supervise` does
        # The limit counts every task of our user: in a namespace that is us; outside, everyone.
        base = 1 if self.in_pid_namespace else processes.tasks_of_user(uid)
        return base + max_processes

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        limits = request["limits"]
        setup = {
            **self.setup,
            "process_allowance": self._process_allowance(int(limits["max_processes"])),
        }
        pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, report
        child_ends = (pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1])
        parent_ends = (pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0])
        pid = os.fork()
        if pid == 0:
            harness.child_main(request, child_ends, setup)
        for fd in child_ends:
            os.close(fd)
        stdin_data = str(request.get("stdin") or "").encode("utf-8", "surrogateescape")
        try:
            return supervise.supervise(pid, parent_ends, stdin_data, limits, self.in_pid_namespace)
        finally:
            processes.kill_all(self.in_pid_namespace)
            for folder in self.wipe_folders:
                wipe(folder)


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
        except (
            Exception
        ) as error:  # report and carry on: one broken request is not the sandbox's end
            answer = {"outcome": "harness_error", "error": f"{type(error).__name__}: {error}"}
        frames.write_frame(control_out, answer)
