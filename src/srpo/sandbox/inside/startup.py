"""What the zygote does once, at start-up, to make every later fork cheap.

- `preload`: import the standard modules programs use most (children share those pages), noting
  the at-fork hooks they register (random's reseed), which the zygote runs itself before a fork.
- `fork_function`: fork with the C library's fork() (see there why that is safe here).
- `warm_up`: run srpo's own fixed programs (never a caller's) through the harness in the zygote,
  so the harness's code is already specialised when a child runs it (cold code writes its
  warm-up counters, so every function a child calls cold costs it a copied page).
- `compact`: hand back the memory start-up freed.
A fork copies the page table of everything mapped, and a child copies every page it writes: each
of these removes pages from one or the other.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
from collections.abc import Callable
from typing import Any

from srpo.sandbox.inside import harness, seccomp

# What programs and tests import most; children share these pages instead of loading them.
# fmt: off
PRELOAD = ("bisect", "cmath", "collections", "copy", "datetime", "decimal", "fractions",
           "functools", "heapq", "itertools", "json", "math", "operator", "random", "re",
           "statistics", "string", "typing")
# fmt: on
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


def prctl(option: int, value: int) -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, value, 0, 0, 0) == 0


def preload(names: tuple[str, ...]) -> list[Callable[[], object]]:
    """Import `names`; return the at-fork child hooks they register (random's reseed).

    The zygote forks plainly (`fork_function`), which runs no hook, so it runs these itself just
    before each fork: every child starts freshly seeded, as after `os.fork`. They stay registered,
    so a program's own `os.fork` in a child runs them as usual."""
    hooks: list[Callable[[], object]] = []
    register = os.register_at_fork

    def keep(**kinds: Callable[[], object]) -> None:
        if kinds.get("after_in_child") is not None:
            hooks.append(kinds["after_in_child"])
        register(**kinds)

    os.register_at_fork = keep
    try:
        for name in names:
            importlib.import_module(name)
    finally:
        os.register_at_fork = register
    return hooks


def fork_function() -> Callable[[], int]:
    """How the zygote forks: the C library's fork() where that is safe, else `os.fork`.

    `os.fork` also runs CPython's after-fork work in the child (it re-makes the runtime's locks,
    the GIL and the import lock, and runs at-fork hooks): 65 copied pages and a tenth of a
    millisecond per fork of a bare interpreter, about 0.05 ms in a sandbox's run. That work is
    for processes that fork while other threads may hold those locks, or with hooks to run. The
    zygote has neither: it is single-threaded (checked here; it never starts a thread), holds no
    lock when it forks, and runs the one hook its preloads register (random's reseed) itself,
    before each fork. Its child goes on from a plain fork() with the interpreter exactly as the
    zygote left it; a program's own `os.fork` in the child is the full one."""
    if len(os.listdir("/proc/self/task")) != 1:
        return os.fork
    fork = ctypes.CDLL(None, use_errno=True).fork
    fork.restype, fork.argtypes = ctypes.c_int, ()

    def plain_fork() -> int:
        pid = fork()
        if pid < 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))
        return pid

    return plain_fork


def compact() -> None:
    """Hand back the memory start-up freed: every fork copies the page table of what is mapped."""
    gc.collect()
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc only
    if trim is not None:
        trim(0)


def install_seccomp() -> bool:
    bpf = seccomp.build()
    if bpf is None:
        return False
    bpf.install()  # an OSError stops the start-up: srpo reports the sandbox as broken
    return True


# srpo's own programs, one per mode, with the shapes of real ones (typing, a list comprehension, a
# failing assert, keyword calls, output): what a child's harness runs first, run here first.
_WARM_UP: tuple[dict[str, Any], ...] = (
    {
        "mode": "assert",
        "source": "from typing import List\n"
        "def f(xs: List[int]) -> List[int]:\n    return [x * 2 for x in xs]\n",
        "tests": "def check(candidate):\n    assert candidate([1, 2]) == [2, 4]\n"
        "    assert candidate([]) == []\n    assert candidate([3]) == [5]\n"
        "    assert candidate([4])[0] == 8\n",
        "entry_point": "f",
        "prelude": "",
    },
    {
        "mode": "call",
        "source": "def g(a, b=0):\n    return {'s': a + b}\n",
        "fn_name": "g",
        "calls": [[[1, 2], {}], [[3], {"b": 4}]],
    },
    {"mode": "script", "source": "import sys\nprint(sum(range(3)), file=sys.stdout)\n", "stdin": ""},
    {  # every assert passes: the `done` record of a clean run (`Reporter.send_done`)
        "mode": "assert",
        "source": "def h(n):\n    return n + 1\n",
        "tests": "def check(candidate):\n    assert candidate(1) == 2\n",
        "entry_point": "h",
        "prelude": "",
    },
)
# What `harness.run_calls` runs in a child (see `harness.start_calls`), with harmless calls here.
_WARM_UP_CALLS = ((os.getpid, ()), (os.getppid, ()))
_WARM_UP_LIMITS = {
    "memory_mb": 1024,
    "max_file_mb": 16,
    "max_open_files": 256,
    "cpu_s": 3.0,
    "max_processes": 16,
}
_WARM_UP_ROUNDS = 10  # CPython 3.11 specialises a function's code after 8 calls


def warm_up(setup_for: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Run the fixed programs through the harness, in this process, `_WARM_UP_ROUNDS` times.

    `setup_for(request)` is the zygote's per-run setup; here the reports go to /dev/null (and no
    `__main__` is registered: only `Zygote.run` does that, for a child). Nothing of a caller's
    runs here."""
    null = os.open(os.devnull, os.O_WRONLY)
    reporter = harness.Reporter(null)
    try:
        for _ in range(_WARM_UP_ROUNDS):
            for request in _WARM_UP:
                request = {**request, "nonce": "0" * 32, "limits": _WARM_UP_LIMITS}
                harness.run_program(request, {**setup_for(request), "reporter": reporter})
            harness.run_calls(_WARM_UP_CALLS)
    finally:
        os.close(null)
