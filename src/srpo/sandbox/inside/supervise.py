"""Watching one forked run from the zygote, and ending it.

The zygote feeds stdin, reads stdout, stderr and the report pipe with caps, and ends the run from
outside the program when it is over time (no progress for `timeout_s`, or `total_timeout_s` in
all), over its output cap, over its memory or task ceiling, or when the program's main process
exits. Whatever happens, every process of the run is then killed and reaped.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from srpo.sandbox.inside import processes

_CHUNK = 1 << 16
_FIRST_WATCH_S, _WATCH_EVERY_S = 0.01, 0.02
_MAX_REPORT = 64 << 20
_STDERR_KEPT = 64 << 10


@dataclass(slots=True)
class Stream:
    fd: int
    keep: int  # bytes kept
    limit: int  # bytes after which the run is stopped
    data: bytearray = field(default_factory=bytearray)
    seen: int = 0
    open: bool = True

    def take(self, chunk: bytes) -> bool:
        """Keep what fits; True when the stream went over its limit."""
        self.seen += len(chunk)
        room = self.keep - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self.seen > self.limit


def _nonblocking(fd: int) -> None:
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


@dataclass(slots=True)
class Watch:
    """One run under supervision."""

    pid: int
    limits: dict[str, Any]
    in_pid_namespace: bool
    stdin_fd: int | None
    stdin_data: memoryview
    streams: dict[int, Stream]
    report_fd: int
    outcome: str | None = None

    def feed_stdin(self, poller: select.poll) -> None:
        try:
            written = os.write(self.stdin_fd, self.stdin_data[:_CHUNK])
        except (BlockingIOError, InterruptedError):
            return
        except BrokenPipeError:  # the program stopped reading: fine, it has what it wanted
            written = len(self.stdin_data)
        self.stdin_data = self.stdin_data[written:]
        if not self.stdin_data:
            poller.unregister(self.stdin_fd)
            os.close(self.stdin_fd)
            self.stdin_fd = None

    def read(self, fd: int, poller: select.poll) -> bool:
        """Read one chunk; True if the run went over an output cap."""
        stream = self.streams[fd]
        try:
            chunk = os.read(fd, _CHUNK)
        except (BlockingIOError, InterruptedError):
            return False
        if not chunk:
            stream.open = False
            poller.unregister(fd)
            return False
        return stream.take(chunk)

    def over_ceiling(self) -> str | None:
        seen = processes.usage(self.in_pid_namespace)
        if seen.private_bytes > int(self.limits["memory_mb"]) << 20:
            return "memory"
        if seen.tasks > int(self.limits["max_processes"]) + 1:
            return "process_limit"
        return None


def _loop(watch: Watch, pidfd: int) -> None:
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    for fd in watch.streams:
        _nonblocking(fd)
        poller.register(fd, select.POLLIN)
    if watch.stdin_fd is not None:
        _nonblocking(watch.stdin_fd)
        poller.register(watch.stdin_fd, select.POLLOUT)
    start = time.monotonic()
    last_progress, next_watch = start, start + _FIRST_WATCH_S
    timeout_s, total_s = float(watch.limits["timeout_s"]), float(watch.limits["total_timeout_s"])
    while True:
        now = time.monotonic()
        deadline = min(last_progress + timeout_s, start + total_s)
        if now >= deadline:
            watch.outcome = "timeout"
            return
        wait_s = max(0.0, min(deadline, next_watch) - now)
        for fd, _event in poller.poll(wait_s * 1000 + 1):
            if fd == pidfd:
                return
            if fd == watch.stdin_fd:
                watch.feed_stdin(poller)
            elif watch.read(fd, poller):
                watch.outcome = "output_limit"
                return
            elif fd == watch.report_fd:
                last_progress = time.monotonic()
        if time.monotonic() >= next_watch:
            watch.outcome = watch.over_ceiling()
            if watch.outcome:
                return
            next_watch = time.monotonic() + _WATCH_EVERY_S


def _drain(watch: Watch) -> None:
    """Collect what is still in the pipes; every writer is dead by now, so this ends."""
    end = time.monotonic() + 0.5
    for stream in watch.streams.values():
        while stream.open and time.monotonic() < end:
            try:
                chunk = os.read(stream.fd, _CHUNK)
            except BlockingIOError:
                break
            if not chunk:
                break
            stream.take(chunk)


def supervise(
    pid: int,
    fds: tuple[int, int, int, int],
    stdin_data: bytes,
    limits: dict[str, Any],
    in_pid_namespace: bool,
) -> dict[str, Any]:
    """Run the forked child `pid` to its end; return what the parent needs to judge it."""
    stdin_w, stdout_r, stderr_r, report_r = fds
    max_output = int(limits["max_output_kb"]) << 10
    streams = {
        stdout_r: Stream(stdout_r, keep=max_output, limit=max_output),
        stderr_r: Stream(stderr_r, keep=_STDERR_KEPT, limit=max_output),
        report_r: Stream(report_r, keep=_MAX_REPORT, limit=_MAX_REPORT),
    }
    if not stdin_data:
        os.close(stdin_w)
    watch = Watch(
        pid=pid,
        limits=limits,
        in_pid_namespace=in_pid_namespace,
        stdin_fd=stdin_w if stdin_data else None,
        stdin_data=memoryview(stdin_data),
        streams=streams,
        report_fd=report_r,
    )
    started = time.monotonic()
    pidfd = os.pidfd_open(pid)
    try:
        _loop(watch, pidfd)
    finally:
        os.close(pidfd)
    if watch.outcome is not None:
        os.kill(pid, signal.SIGKILL)
    _, status, rusage = os.wait4(pid, 0)
    wall_s = time.monotonic() - started
    processes.kill_all(in_pid_namespace)
    _drain(watch)
    for fd in (*streams, *([watch.stdin_fd] if watch.stdin_fd is not None else [])):
        os.close(fd)
    return {
        "outcome": watch.outcome or "exited",
        "exit_code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "wall_s": round(wall_s, 6),
        "cpu_s": round(rusage.ru_utime + rusage.ru_stime, 6),
        "max_rss_kb": rusage.ru_maxrss,
        "stdout": streams[stdout_r].data.decode("utf-8", "replace"),
        "stdout_truncated": streams[stdout_r].seen > len(streams[stdout_r].data),
        "stderr": streams[stderr_r].data.decode("utf-8", "replace"),
        "report": streams[report_r].data.decode("utf-8", "replace"),
    }
