"""One sandbox: a zygote process under the chosen isolation, and the parent's side of its protocol.

The parent is the trust anchor. It starts the zygote, sends it the source of
`srpo.sandbox.inside` (so nothing of srpo needs to be installed where the sandbox runs), sends one
request per run with a fresh nonce, and waits for the answer with its own deadline: a zygote that
does not answer in time is killed with everything in it (its namespaces die with it) and restarted.
Answers are parsed as untrusted JSON; a run counts as complete only with its own nonce.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import select
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from importlib import resources
from typing import IO, Any

from srpo.sandbox.inside import frames
from srpo.sandbox.inside.processes import children_of as _children
from srpo.sandbox.inside.processes import descendants as _descendants
from srpo.sandbox.isolation import IsolationPlan, Launch
from srpo.sandbox.limits import DEFAULT_LIMITS, Limits
from srpo.sandbox.runs import AssertSummary, CallOutcome, Run, RunResult, request_for

GRACE_S = 5.0  # the zygote's own clean-up after a run, on top of the run's time budget
_INSIDE = (
    "frames",
    "seccomp",
    "processes",
    "integrity",
    "asserts",
    "harness",
    "supervise",
    "zygote",
)
_BOOTSTRAP = """\
import importlib.abc, importlib.util, json, os, struct, sys
def _read(size):
    data = b""
    while len(data) < size:
        chunk = os.read(0, size - len(data))
        if not chunk:
            raise SystemExit(3)
        data += chunk
    return data
_SOURCES = json.loads(_read(struct.unpack(">I", _read(4))[0]))
class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name in _SOURCES:
            package = not name.rsplit(".", 1)[-1] in _SOURCES["__modules__"]
            return importlib.util.spec_from_loader(name, self, is_package=package)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        name = module.__name__
        exec(compile(_SOURCES[name], "<srpo:" + name + ">", "exec"), module.__dict__)
sys.meta_path.insert(0, _Finder())
from srpo.sandbox.inside.zygote import main
main()
"""


class SandboxStartError(RuntimeError):
    """A sandbox did not start; the message carries what it printed."""


class _Launcher:
    """Starts sandbox processes from one long-lived thread.

    bwrap's --die-with-parent is PR_SET_PDEATHSIG, which fires when the *thread* that started the
    process ends, not the process: a sandbox started from a short-lived worker thread (a grading
    batch's executor) would be killed when that thread retires.
    """

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[list[str], dict[str, Any], Future[Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="srpo-sandbox-launcher", daemon=True)
                self._thread.start()
        started: Future[subprocess.Popen[bytes]] = Future()
        self._requests.put((argv, kwargs, started))
        return started.result()

    def _serve(self) -> None:
        while True:
            argv, kwargs, started = self._requests.get()
            try:
                started.set_result(subprocess.Popen(argv, **kwargs))
            except BaseException as error:  # handed to the caller, who raises it
                started.set_exception(error)


_LAUNCHER = _Launcher()


def _inside_sources() -> dict[str, Any]:
    package = resources.files("srpo.sandbox.inside")
    sources: dict[str, Any] = {"srpo": "", "srpo.sandbox": "", "__modules__": list(_INSIDE)}
    sources["srpo.sandbox.inside"] = package.joinpath("__init__.py").read_text(encoding="utf-8")
    for name in _INSIDE:
        sources[f"srpo.sandbox.inside.{name}"] = package.joinpath(f"{name}.py").read_text(encoding="utf-8")
    return sources


class _FrameReader:
    """Reads frames from a pipe with a deadline (a hung zygote must not hang the parent)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def _fill(self, size: int, deadline: float) -> bool:
        while len(self.buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    return False
                self.buffer += chunk
        return True

    def read(self, deadline: float) -> Any:
        """The next frame's value; None when the zygote is gone."""
        if not self._fill(frames.HEADER.size, deadline):
            return None
        (size,) = frames.HEADER.unpack(self.buffer[: frames.HEADER.size])
        if size > frames.MAX_FRAME or not self._fill(frames.HEADER.size + size, deadline):
            return None
        body = bytes(self.buffer[frames.HEADER.size : frames.HEADER.size + size])
        del self.buffer[: frames.HEADER.size + size]
        return json.loads(body.decode("utf-8", "replace"))


class Sandbox:
    """One zygote, started on first use and restarted whenever a run leaves it dead or hung."""

    def __init__(self, plan: IsolationPlan) -> None:
        self.plan = plan
        self.starts = 0
        self.hello: dict[str, Any] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._launch: Launch | None = None
        self._reader: _FrameReader | None = None
        self._errors: IO[bytes] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        launch = self.plan.launch(_BOOTSTRAP)
        # The zygote's stderr: read when a start fails, closed when the sandbox stops.
        errors = self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            process = _LAUNCHER.popen(
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
        self._reader = _FrameReader(process.stdout.fileno())
        try:
            frames.write_frame(process.stdin.fileno(), _inside_sources())
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

    def stop(self) -> None:
        """Kill the zygote and, with it, everything in its namespaces."""
        process, self._process = self._process, None
        if process is not None:
            try:
                os.killpg(process.pid, 9)
            except (ProcessLookupError, PermissionError):
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        if self._launch is not None and self._launch.scratch:
            shutil.rmtree(self._launch.scratch, ignore_errors=True)
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
        """Run `run` once; never raises for anything the program does."""
        with self._lock:
            return self._run(run, limits.for_request(timeout_s=timeout_s, total_timeout_s=total_timeout_s))

    def _run(self, run: Run, limits: dict[str, Any]) -> RunResult:
        level = self.plan.level
        nonce = secrets.token_hex(16)
        request = frames.encode_frame(request_for(run, nonce=nonce, limits=limits))
        for attempt in (1, 2):
            try:
                if not self.alive:
                    self.stop()
                    self.start()
                frames.write_all(self._process.stdin.fileno(), request)
                break
            except SandboxStartError as error:
                return RunResult(outcome="sandbox_error", isolation=level, detail=str(error))
            except OSError as error:  # the zygote died between runs: start a fresh one once
                self.stop()
                if attempt == 2:
                    return RunResult(outcome="sandbox_error", isolation=level, detail=str(error))
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
        if answer is None:
            said = " | ".join(self._last_words())
            self.stop()
            detail = "the sandbox's harness died during the run; restarted" + (f" ({said})" if said else "")
            return RunResult(outcome="harness_lost", isolation=level, detail=detail)
        return parse_answer(answer, nonce=nonce, isolation=level)


def _records(report: str) -> list[dict[str, Any]]:
    found = []
    for line in report.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(record)
    return found


def _outcome(answer: dict[str, Any], error: dict[str, Any] | None) -> str:
    outcome = answer.get("outcome")
    if outcome == "harness_error":
        return "sandbox_error"
    if outcome != "exited":
        return str(outcome)
    if answer.get("signal") == 24:  # SIGXCPU: over RLIMIT_CPU
        return "timeout"
    died_of = str((error or {}).get("error", "")) or (answer.get("stderr") or "").strip()[-200:]
    if answer.get("exit_code") not in (0, None) and "MemoryError" in died_of:
        return "memory"
    return "exited"


def parse_answer(answer: dict[str, Any], *, nonce: str, isolation: str) -> RunResult:
    records = _records(str(answer.get("report", "")))
    done = next((r for r in records if r.get("kind") == "done" and r.get("nonce") == nonce), None)
    error = next((r for r in records if r.get("kind") == "error"), None)
    calls = tuple(
        CallOutcome(index=int(r.get("index", -1)), value_json=r.get("value"), error=r.get("error"))
        for r in records
        if r.get("kind") == "case"
    )
    summary = None
    if done is not None and "passed" in done:
        summary = AssertSummary(
            passed=int(done.get("passed", 0)),
            failed=int(done.get("failed", 0)),
            first_failure=done.get("first_failure"),
            tampered=tuple(str(t) for t in done.get("tampered") or ()),
        )
    return RunResult(
        outcome=_outcome(answer, error),
        isolation=isolation,
        exit_code=answer.get("exit_code"),
        signal=answer.get("signal"),
        wall_s=float(answer.get("wall_s", 0.0)),
        cpu_s=float(answer.get("cpu_s", 0.0)),
        stdout=str(answer.get("stdout", "")),
        stdout_truncated=bool(answer.get("stdout_truncated")),
        stderr=str(answer.get("stderr", "")),
        completed=done is not None,
        calls=calls,
        asserts=summary,
        error=error,
        detail=str(answer.get("error", "")),
        records=tuple(records),
    )
