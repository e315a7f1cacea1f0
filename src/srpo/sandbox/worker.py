"""One sandbox: a zygote process under the chosen isolation, and the parent's side of its protocol.

The parent is the trust anchor. It starts the zygote, sends it the source of
`srpo.sandbox.inside` (so nothing of srpo needs to be installed where the sandbox runs), sends one
request per run with a fresh nonce, and waits for the answer with its own deadline: a zygote that
does not answer in time is killed with everything in it (its namespaces die with it) and restarted.
Answers are parsed as untrusted JSON; a run counts as complete only with its own nonce.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import tempfile
import threading
import time
from dataclasses import replace
from typing import IO, Any

from srpo.sandbox.cgroups import PoolCeiling
from srpo.sandbox.channel import BOOTSTRAP, LAUNCHER, FrameReader, inside_sources
from srpo.sandbox.inside import frames, scratch
from srpo.sandbox.inside.processes import children_of as _children
from srpo.sandbox.inside.processes import descendants as _descendants
from srpo.sandbox.isolation import IsolationPlan, Launch
from srpo.sandbox.limits import DEFAULT_LIMITS, Limits
from srpo.sandbox.runs import Run, RunResult, parse_answer, request_for

GRACE_S = 5.0  # the zygote's own clean-up after a run, on top of the run's time budget
# A request written ahead waits in the zygote's stdin pipe (64 KiB) behind the one it is running:
# the two together must fit there, or its writer would wait for the zygote.
AHEAD_MAX_BYTES = 48 << 10


class SandboxStartError(RuntimeError):
    """A sandbox did not start; the message carries what it printed."""


class Sandbox:
    """One zygote, started on first use and restarted whenever a run leaves it dead or hung.

    Runs go through the zygote one at a time, in the order callers asked for them (tickets). The
    run after the one in progress may have its request written ahead (`_write_ahead`), so the
    zygote reads it the moment it has answered, instead of idling while the caller's thread
    judges the answer and builds the next request. Only the caller whose turn it is (the head)
    reads an answer, starts or restarts the zygote; a request written ahead to a zygote that has
    since been replaced is written again at its turn."""

    def __init__(self, plan: IsolationPlan, *, cgroup: str | None = None) -> None:
        self.plan = plan
        self.cgroup = cgroup
        """The cgroup v2 leaf this sandbox's processes are moved into (see `cgroups`)."""
        self.starts = 0
        self.hello: dict[str, Any] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._launch: Launch | None = None
        self._reader: FrameReader | None = None
        self._errors: IO[bytes] | None = None
        self._turns = threading.Condition()
        self._next_ticket = 0
        self._head = 0
        """The ticket whose run is in the zygote now (or next), and whose caller reads its answer."""
        self._head_sent: tuple[subprocess.Popen[bytes], int] | None = None
        """The zygote the head's request went to, and its size (None: not written yet)."""
        self._ahead: tuple[int, subprocess.Popen[bytes] | None] | None = None
        """(ticket, the zygote its request was written ahead to, or None if that failed)."""
        self._stdin_lock = threading.Lock()  # one writer at a time; streams close under it
        self._oom_seen = 0

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        launch = self.plan.launch(BOOTSTRAP)
        # The zygote's stderr: read when a start fails, closed when the sandbox stops.
        errors = self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            process = LAUNCHER.popen(
                launch.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                bufsize=0,
                **launch.popen,
            )
        except OSError as error:
            raise SandboxStartError(f"cannot start {launch.argv[0]}: {error}") from error
        self._process, self._launch, self.starts = process, launch, self.starts + 1
        self._reader = FrameReader(process.stdout.fileno())
        try:
            frames.write_frame(process.stdin.fileno(), inside_sources())
            frames.write_frame(process.stdin.fileno(), launch.config)
            hello = self._reader.read(time.monotonic() + self.plan.options.start_timeout_s)
        except (OSError, TimeoutError, ValueError) as error:
            hello = {"error": f"{type(error).__name__}: {error}"}
        if not isinstance(hello, dict) or not hello.get("ready"):
            said = self._last_words()
            self.stop()
            raise SandboxStartError(
                f"the {self.plan.level} sandbox did not start: {' | '.join(said) or hello}"
            )
        self.hello = hello
        if self.cgroup is not None:  # before any run: every run's processes are born inside
            PoolCeiling.adopt(self.cgroup, [process.pid, *self.members()])
            self._oom_seen = PoolCeiling.oom_kills(self.cgroup)

    def stop(self) -> None:
        """Kill the zygote and, with it, everything in its namespaces."""
        process, self._process = self._process, None
        if process is not None:
            try:
                os.killpg(process.pid, 9)
            except (ProcessLookupError, PermissionError):
                process.kill()
            process.wait()
            with self._stdin_lock:  # a request being written ahead has failed by now (EPIPE)
                for stream in (process.stdin, process.stdout):
                    if stream is not None:
                        stream.close()
        if self._launch is not None and self._launch.scratch:
            with contextlib.suppress(OSError):
                scratch.remove(self._launch.scratch)  # deep folders included
        self._launch = None
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    close = stop

    def _last_words(self) -> list[str]:
        """The last lines the zygote (or bwrap) wrote on stderr."""
        if self._errors is None:
            return []
        self._errors.seek(0)
        return self._errors.read().decode("utf-8", "replace").strip().splitlines()[-3:]

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def members(self) -> list[int]:
        """Host PIDs of every process in this sandbox, the zygote included (empty when stopped).

        With a PID namespace: every process in the zygote's namespace; without: the zygote and
        the processes under it. Between runs this is the zygote alone.
        """
        if not self.alive:
            return []
        launcher = self._process.pid
        zygote = launcher if self.plan.level == "rlimits" else next(iter(_children(launcher)), None)
        if zygote is None:
            return []
        if self.plan.level == "rlimits":
            return [zygote, *_descendants(zygote)]
        try:
            namespace = os.readlink(f"/proc/{zygote}/ns/pid")
        except OSError:
            return []
        found = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    if os.readlink(f"/proc/{name}/ns/pid") == namespace:
                        found.append(int(name))
                except OSError:
                    continue
        return found

    # ------------------------------------------------------------------------------------ runs

    def run(
        self,
        run: Run,
        limits: Limits = DEFAULT_LIMITS,
        *,
        timeout_s: float | None = None,
        total_timeout_s: float | None = None,
    ) -> RunResult:
        """Run `run` once; never raises for anything the program does. Safe from many threads:
        their runs take turns in the order they called."""
        request_limits = limits.for_request(timeout_s=timeout_s, total_timeout_s=total_timeout_s)
        nonce = secrets.token_hex(16)
        request = frames.encode_frame(request_for(run, nonce=nonce, limits=request_limits))
        with self._turns:
            ticket, self._next_ticket = self._next_ticket, self._next_ticket + 1
        answered = False
        try:
            self._write_ahead(ticket, request)
            with self._turns:
                self._turns.wait_for(lambda: self._head == ticket)
                refused = self._send_as_head(ticket, request)
            result = refused or self._result(nonce, request_limits)
            answered = True
            return result
        finally:
            with self._turns:
                self._turns.wait_for(lambda: self._head == ticket)  # at once, unless it raised before
                if not answered:  # its request may be in the zygote with no one to read the answer
                    self.stop()
                # Not `_ahead`: it may already hold the next ticket's request, written ahead.
                self._head, self._head_sent = ticket + 1, None
                self._turns.notify_all()

    def _write_ahead(self, ticket: int, request: bytes) -> None:
        """Write the request of the run next in line while the run before it is in the zygote."""
        if len(request) > AHEAD_MAX_BYTES:
            return
        with self._turns:
            self._turns.wait_for(
                lambda: self._head >= ticket or (self._head == ticket - 1 and self._head_sent is not None)
            )
            sent = self._head_sent
            if self._head != ticket - 1 or sent is None or sent[1] + len(request) > AHEAD_MAX_BYTES:
                return
            process = sent[0]
        written: subprocess.Popen[bytes] | None = None
        with self._stdin_lock:
            if self._process is process:  # not stopped since: its stdin is still open
                try:
                    frames.write_all(process.stdin.fileno(), request)
                    written = process
                except OSError:  # the zygote died: the run is sent again at its turn
                    pass
        with self._turns:
            self._ahead = (ticket, written)

    def _send_as_head(self, ticket: int, request: bytes) -> RunResult | None:
        """Make sure the head's request is in the current zygote (starting one if need be); a
        RunResult when that failed. Called holding `_turns`, so no one writes meanwhile."""
        ahead = self._ahead[1] if self._ahead is not None and self._ahead[0] == ticket else None
        self._ahead = None
        if ahead is None or ahead is not self._process or not self.alive:
            level = self.plan.level
            for attempt in (1, 2):
                try:
                    if not self.alive:
                        self.stop()
                        self.start()
                    with self._stdin_lock:
                        frames.write_all(self._process.stdin.fileno(), request)
                    break
                except SandboxStartError as error:
                    return RunResult(outcome="sandbox_error", isolation=level, detail=str(error))
                except OSError as error:  # the zygote died between runs: start a fresh one once
                    self.stop()
                    if attempt == 2:
                        return RunResult(outcome="sandbox_error", isolation=level, detail=str(error))
        self._head_sent = (self._process, len(request))
        self._turns.notify_all()  # the next caller may write its request ahead
        return None

    def _result(self, nonce: str, limits: dict[str, Any]) -> RunResult:
        result = self._answer(nonce, limits)
        if self.cgroup:
            # The pool's ceiling was reached and the kernel killed a process in this sandbox. The
            # next run may already have started (written ahead), so the count can include its
            # kills; it relabels only a run that did not end cleanly, never a passing one.
            kills = PoolCeiling.oom_kills(self.cgroup)
            killed, self._oom_seen = kills > self._oom_seen, max(kills, self._oom_seen)
            if killed and not (result.outcome == "exited" and result.exit_code == 0):
                reason = "the memory ceiling of all sandboxes together was reached"
                return replace(result, outcome="memory", detail=reason)
        return result

    def _answer(self, nonce: str, limits: dict[str, Any]) -> RunResult:
        level = self.plan.level
        try:
            answer = self._reader.read(time.monotonic() + limits["total_timeout_s"] + GRACE_S)
        except TimeoutError:
            self.stop()
            return RunResult(
                outcome="timeout",
                isolation=level,
                detail="the sandbox did not answer in time; it was killed and restarted",
            )
        except ValueError as error:
            self.stop()
            return RunResult(outcome="sandbox_error", isolation=level, detail=f"unreadable answer: {error}")
        if isinstance(answer, dict) and answer.get("request") != nonce:
            self.stop()  # never expected: the answers are out of step with the requests
            detail = f"the sandbox answered another request ({str(answer.get('request'))[:40]}); restarted"
            return RunResult(outcome="sandbox_error", isolation=level, detail=detail)
        if answer is None:
            said = " | ".join(self._last_words())
            self.stop()
            detail = "the sandbox's harness died during the run; restarted" + (f" ({said})" if said else "")
            return RunResult(outcome="harness_lost", isolation=level, detail=detail)
        if answer.get("retire"):  # the zygote could not clean up after this run and has quit
            self.stop()
        return parse_answer(answer, nonce=nonce, isolation=level)
