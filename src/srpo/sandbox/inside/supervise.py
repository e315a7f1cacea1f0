"""Watching one forked run from the zygote, and ending it.

The zygote feeds stdin, reads stdout, stderr and the report pipe with caps, and ends the run from
outside the program when it is over time (no progress for `timeout_s`, or `total_timeout_s` in
all), over its output cap, over its memory or task ceiling, or when the program's main process
exits. Whatever happens, every process of the run is then killed and reaped.

Cheap on purpose, because every page the zygote writes after a fork costs a page fault (the fork
made it copy-on-write): the zygote sleeps on the child's pidfd and a timer only, not on its
pipes, so a program's writes never wake it. The pipes are emptied at each watch (10 ms after the
start, then every 20 ms, sooner while a pipe fills fast) and at the end; a program that writes
faster than that waits on a full pipe (256 KiB), and the timeout looks at the report pipe before
it fires. stdin is written into its pipe at once when it fits.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import time
from typing import Any

from srpo.sandbox.inside import processes

_CHUNK = 1 << 16
_FIRST_WATCH_S, _WATCH_EVERY_S, _BUSY_WATCH_S = 0.01, 0.02, 0.001
_PIPE_BYTES = 256 << 10
_F_SETPIPE_SZ = 1031
_MAX_REPORT = 64 << 20
_STDERR_KEPT = 64 << 10


class Stream:
    """One pipe from the program: what is kept of it, and how much it has written."""

    __slots__ = ("data", "fd", "keep", "limit", "open", "seen")

    def __init__(self, fd: int, keep: int, limit: int) -> None:
        self.fd, self.keep, self.limit = fd, keep, limit  # bytes kept; bytes past which it stops
        self.data, self.seen, self.open = bytearray(), 0, True

    def take(self, chunk: bytes) -> bool:
        """Keep what fits; True when the stream went over its limit."""
        self.seen += len(chunk)
        room = self.keep - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self.seen > self.limit


def _output_pipe(fd: int) -> None:
    os.set_blocking(fd, False)
    try:  # noqa: SIM105 - contextlib.suppress would cost the zygote copied pages at every run
        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:  # a larger pipe is an optimisation, not a must
        pass


def _feed(fd: int, data: memoryview) -> memoryview:
    """Write what the pipe takes now; the rest is returned (empty: `fd` is closed)."""
    try:
        while data:
            data = data[os.write(fd, data[:_CHUNK]) :]
    except (BlockingIOError, InterruptedError):
        return data
    except BrokenPipeError:  # the program stopped reading: fine, it has what it wanted
        pass
    os.close(fd)
    return data[len(data) :]


def _drain(streams: list[Stream]) -> int:
    """Read whatever the pipes hold now; the number of bytes read."""
    total = 0
    for stream in streams:
        while stream.open:
            try:
                chunk = os.read(stream.fd, _CHUNK)
            except (BlockingIOError, InterruptedError):
                break
            if not chunk:
                stream.open = False
                break
            total += len(chunk)
            stream.take(chunk)
    return total


def _over_ceiling(limits: dict[str, Any], in_pid_namespace: bool) -> str | None:
    seen = processes.usage(in_pid_namespace)
    if seen.private_bytes > int(limits["memory_mb"]) << 20:
        return "memory"
    if seen.tasks > int(limits["max_processes"]) + 1:
        return "process_limit"
    return None


def _watch(pidfd: int, stdin: list[Any], streams: list[Stream], report: Stream,
           limits: dict[str, Any], in_pid_namespace: bool) -> str | None:  # fmt: skip
    """Wait for the child's end; the outcome when the zygote has to end it instead. `stdin`:
    [fd, what is left to write], with fd None once all is written (and the pipe closed)."""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    if stdin[0] is not None:
        poller.register(stdin[0], select.POLLOUT)
    start = time.monotonic()
    last_progress, next_watch, reported = start, start + _FIRST_WATCH_S, 0
    timeout_s, total_s = float(limits["timeout_s"]), float(limits["total_timeout_s"])
    while True:
        now = time.monotonic()
        deadline = min(last_progress + timeout_s, start + total_s)
        if now >= next_watch or now >= deadline:
            read = _drain(streams)
            if any(stream.seen > stream.limit for stream in streams):
                return "output_limit"
            if report.seen > reported:
                reported, last_progress = report.seen, now
                deadline = min(last_progress + timeout_s, start + total_s)
            if now >= deadline:
                return "timeout"
            outcome = _over_ceiling(limits, in_pid_namespace)
            if outcome:
                return outcome
            next_watch = now + (_BUSY_WATCH_S if read > _PIPE_BYTES // 2 else _WATCH_EVERY_S)
        for fd, _event in poller.poll(max(0.0, min(deadline, next_watch) - now) * 1000 + 1):
            if fd == pidfd:
                return None
            stdin[1] = _feed(fd, stdin[1])
            if not stdin[1]:
                poller.unregister(fd)
                stdin[0] = None


class Supervision:
    """One run's watch, set up before the fork (`__init__`: the pipes' flags, stdin fed) and
    followed after it (`follow`), so that while the child lives the zygote only watches.
    (Measured: this moves the zygote's page faults rather than removing them.)"""

    def __init__(self, fds: tuple[int, int, int, int], stdin_data: bytes, limits: dict[str, Any],
                 in_pid_namespace: bool) -> None:  # fmt: skip
        stdin_w, stdout_r, stderr_r, report_r = fds
        max_output = int(limits["max_output_kb"]) << 10
        self.stdout = Stream(stdout_r, keep=max_output, limit=max_output)
        self.stderr = Stream(stderr_r, keep=_STDERR_KEPT, limit=max_output)
        self.report = Stream(report_r, keep=_MAX_REPORT, limit=_MAX_REPORT)
        self.streams = [self.stdout, self.stderr, self.report]
        for stream in self.streams:
            _output_pipe(stream.fd)
        os.set_blocking(stdin_w, False)
        rest = _feed(stdin_w, memoryview(stdin_data))  # into the pipe now, for the child to read
        self.stdin = [stdin_w if rest else None, rest]
        self.limits, self.in_pid_namespace = limits, in_pid_namespace

    def follow(self, pid: int) -> dict[str, Any]:
        """Run the forked child `pid` to its end; return what the parent needs to judge it."""
        started = time.monotonic()
        pidfd = os.pidfd_open(pid)
        try:
            outcome = _watch(pidfd, self.stdin, self.streams, self.report, self.limits, self.in_pid_namespace)
        finally:
            os.close(pidfd)
        if outcome is not None:
            os.kill(pid, signal.SIGKILL)
        _, status, rusage = os.wait4(pid, 0)
        wall_s = time.monotonic() - started
        processes.kill_all(self.in_pid_namespace)
        _drain(self.streams)  # every writer is dead by now, so this ends
        self.close()
        return {
            "outcome": outcome or "exited",
            "exit_code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "wall_s": round(wall_s, 6),
            "cpu_s": round(rusage.ru_utime + rusage.ru_stime, 6),
            "max_rss_kb": rusage.ru_maxrss,
            "minflt": rusage.ru_minflt,
            "stdout": self.stdout.data.decode("utf-8", "replace"),
            "stdout_truncated": self.stdout.seen > len(self.stdout.data),
            "stderr": self.stderr.data.decode("utf-8", "replace"),
            "report": self.report.data.decode("utf-8", "replace"),
        }

    def close(self) -> None:
        """Close the zygote's ends of the pipes (also when the fork failed)."""
        for stream in self.streams:
            if stream.fd >= 0:
                os.close(stream.fd)
                stream.fd = -1
        if self.stdin[0] is not None:
            os.close(self.stdin[0])
            self.stdin[0] = None
