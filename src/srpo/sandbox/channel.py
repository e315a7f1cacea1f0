"""The parent's end of a zygote: how it is started, what it is sent first, how answers are read.

- `LAUNCHER` starts sandbox processes from one long-lived thread (see `Launcher`).
- `BOOTSTRAP` is the zygote's `python -c` program: it reads the source of `srpo.sandbox.inside`
  (`inside_sources()`) from stdin and imports it from memory, so nothing of srpo has to be
  installed, or even readable, where the sandbox runs.
- `FrameReader` reads the zygote's answers with a deadline, so a hung zygote cannot hang srpo.
"""

from __future__ import annotations

import os
import queue
import select
import subprocess
import threading
import time
from concurrent.futures import Future
from importlib import resources
from typing import Any

from srpo.sandbox.inside import frames

INSIDE_MODULES = (
    "frames",
    "seccomp",
    "processes",
    "scratch",
    "integrity",
    "asserts",
    "harness",
    "supervise",
    "startup",
    "zygote",
)
# importlib.machinery only (importlib.abc and .util would load ~50 modules into every sandbox).
BOOTSTRAP = """\
import importlib.machinery, json, os, struct, sys
def _read(size):
    data = b""
    while len(data) < size:
        chunk = os.read(0, size - len(data))
        if not chunk:
            raise SystemExit(3)
        data += chunk
    return data
_SOURCES = json.loads(_read(struct.unpack(">I", _read(4))[0]))
class _Finder:
    def find_spec(self, name, path=None, target=None):
        if name in _SOURCES:
            package = not name.rsplit(".", 1)[-1] in _SOURCES["__modules__"]
            return importlib.machinery.ModuleSpec(name, self, is_package=package)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        name = module.__name__
        exec(compile(_SOURCES[name], "<srpo:" + name + ">", "exec"), module.__dict__)
_FINDER = _Finder()
sys.meta_path.insert(0, _FINDER)
from srpo.sandbox.inside.zygote import main
sys.meta_path.remove(_FINDER)  # every module is loaded: the sources need not stay in every fork
_SOURCES.clear()
main()
"""


class Launcher:
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


LAUNCHER = Launcher()


def inside_sources() -> dict[str, Any]:
    package = resources.files("srpo.sandbox.inside")
    sources: dict[str, Any] = {"srpo": "", "srpo.sandbox": "", "__modules__": list(INSIDE_MODULES)}
    sources["srpo.sandbox.inside"] = package.joinpath("__init__.py").read_text(encoding="utf-8")
    for name in INSIDE_MODULES:
        sources[f"srpo.sandbox.inside.{name}"] = package.joinpath(f"{name}.py").read_text(encoding="utf-8")
    return sources


class FrameReader:
    """Reads frames from a pipe with a deadline (a hung zygote must not hang the parent)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.poller = select.poll()  # not select(): srpo may hold more than 1024 descriptors
        self.poller.register(fd, select.POLLIN)

    def _fill(self, size: int, deadline: float) -> bool:
        while len(self.buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if self.poller.poll(remaining * 1000 + 1):
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
        return frames.decode_json(body.decode("utf-8", "replace"))
