"""The forked child: runs one program in one of three modes, then reports on fd 3.

- `script`: the program runs as `__main__` with the case input on stdin; its stdout is the answer.
- `call`: the program is loaded, then `fn_name(*args, **kwargs)` is called for each case and the
  JSON of each return value is reported (the parent compares; expected values never enter here).
- `assert`: prelude, program, then the (rewritten, see `asserts`) test code, then
  `check(<entry_point>)` when the tests define `check`. Values returned to the tests are screened
  for always-equal objects, and builtins, preloaded modules and the prelude are checked for patches.

Call and assert runs end with a `done` record carrying the run's nonce; the parent counts a run as
complete only when it sees it, so an early exit, `os._exit(0)` or a killed harness never passes.
Every path out of `child_main` is `os._exit`: a child must never return into the zygote's loop.
"""

from __future__ import annotations

import _signal
import atexit
import builtins
import contextlib
import functools
import json
import os
import resource
import sys
import time
import traceback
import types
import warnings
from collections.abc import Callable
from typing import Any

from srpo.sandbox.inside import asserts, integrity

REPORT_FD = 3
PRECOMPILE_MAX_CHARS = 32 << 10
_MAX_FD = os.sysconf("SC_OPEN_MAX")
HARNESS_FAILED = 70  # EX_SOFTWARE


class Reporter:
    """JSON lines and progress ticks on the report pipe, using references taken before the program
    runs (a program that patches `os.write` or `json.dumps` does not reach them)."""

    def __init__(self, fd: int) -> None:
        self._fd, self._write = fd, os.write
        # One encoder made in the zygote: `json.dumps` with options builds a new one per call.
        self._encode = json.JSONEncoder(ensure_ascii=False).encode
        self._quote = json.encoder.encode_basestring
        self._clock, self._last_tick = time.monotonic, 0.0

    def send(self, record: dict[str, Any]) -> None:
        self._send_line(self._encode(record))

    def send_done(self, nonce: str, passed: int, failed: int) -> None:
        """The `done` record of a run with no failure to describe and nothing tampered with,
        without the encoder (its machinery is dozens of copied pages in a child)."""
        line = '{"kind":"done","nonce":%s,"passed":%d,"failed":%d,"first_failure":null,"tampered":[]}'
        self._send_line(line % (self._quote(nonce), passed, failed))

    def _send_line(self, text: str) -> None:
        view = memoryview((text + "\n").encode("utf-8", "replace"))
        while view:
            view = view[self._write(self._fd, view) :]

    def tick(self) -> None:
        now = self._clock()
        if now - self._last_tick >= 0.05:
            self._last_tick = now
            self._write(self._fd, b".\n")


def fresh_module() -> types.ModuleType:
    """The program's `__main__`, made by the zygote before the fork (one object fewer to build
    in the child, where every page it touches is copied)."""
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = builtins
    return module


def fresh_namespace(setup: dict[str, Any]) -> dict[str, Any]:
    # The zygote made `setup["main"]` and registered it as `__main__` (so pickle and `__main__`
    # lookups find the program) before the fork.
    return setup["main"].__dict__


def exit_status(exit_request: SystemExit) -> int:
    code = exit_request.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def error_record(phase: str, error: BaseException, filename: str) -> dict[str, Any]:
    line = next(
        (
            frame.lineno
            for frame in reversed(traceback.extract_tb(error.__traceback__))
            if frame.filename == filename
        ),
        None,
    )
    return {"kind": "error", "phase": phase, "error": asserts.describe(error), "line": line}


def finish_program() -> None:
    """What the interpreter does at a normal exit: wait for threads, run atexit, flush."""
    # `threading` is not preloaded (importing it makes every fork of the zygote a third dearer):
    # a program that started threads imported it.
    threading = sys.modules.get("threading")
    for thread in threading.enumerate() if threading is not None else ():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):  # a program may have closed or replaced them
            stream.flush()


def precompile(source: str) -> tuple[types.CodeType | Exception | None, list[warnings.WarningMessage]]:
    """The program compiled by the zygote before the fork, or the error compiling it raised.

    Compiling costs a child about a third of a millisecond, mostly in pages it copies; the zygote
    compiles in memory it has already made its own. Compiling runs none of the program's code;
    the zygote only does it for sources of at most PRECOMPILE_MAX_CHARS, where the worst inputs
    found (expression chains, deep nesting) take under 20 ms and 12 MiB and end in an error.
    None: the source is longer, and the child compiles it under the run's limits.
    Also returns the warnings compiling raised (a SyntaxWarning, say): they are the program's, so
    the child shows them on its own stderr (`program_code`), not the zygote on srpo's."""
    if len(source) > PRECOMPILE_MAX_CHARS:
        return None, []
    with warnings.catch_warnings(record=True) as caught:
        try:
            # dont_inherit: not this module's `from __future__ import annotations`; a program's
            # annotations are evaluated as in a fresh interpreter.
            return compile(source, integrity.PROGRAM_FILE, "exec", dont_inherit=True), caught
        except Exception as error:  # SyntaxError, ValueError, RecursionError, MemoryError: the program's
            return error.with_traceback(None), caught


def program_code(request: dict[str, Any], setup: dict[str, Any]) -> types.CodeType:
    """The program's code object (see `precompile`); raises what compiling it raised."""
    compiled = setup.get("program")
    for caught in setup.get("compile_warnings") or ():
        warnings.showwarning(caught.message, caught.category, caught.filename, caught.lineno)
    if compiled is None:
        return compile(request["source"], integrity.PROGRAM_FILE, "exec", dont_inherit=True)
    if isinstance(compiled, BaseException):
        raise compiled
    return compiled


def run_script(request: dict[str, Any], reporter: Reporter, setup: dict[str, Any]) -> int:
    namespace = fresh_namespace(setup)
    try:
        exec(program_code(request, setup), namespace)
        status = 0
    except SystemExit as exit_request:
        status = exit_status(exit_request)
    except BaseException as error:
        traceback.print_exc()
        reporter.send(error_record("program", error, integrity.PROGRAM_FILE))
        status = 1
    finish_program()
    return status


def resolve_function(namespace: dict[str, Any], fn_name: str) -> Callable[..., Any]:
    """`fn_name` from the program, else a method of its `Solution` class, else an expression."""
    found = namespace.get(fn_name)
    if callable(found):
        return found
    solution = namespace.get("Solution")
    if isinstance(solution, type) and hasattr(solution, fn_name):
        return getattr(solution(), fn_name)
    if not fn_name.isidentifier():
        return eval(fn_name, namespace)
    raise NameError(f"the program defines no function {fn_name!r}")


def run_call(request: dict[str, Any], reporter: Reporter, setup: dict[str, Any]) -> int:
    dumps, nonce = json.dumps, request["nonce"]
    namespace = fresh_namespace(setup)
    try:
        exec(program_code(request, setup), namespace)
        function = resolve_function(namespace, request["fn_name"])
    except BaseException as error:
        reporter.send(error_record("program", error, integrity.PROGRAM_FILE))
        return 1
    for index, (args, kwargs) in enumerate(request["calls"]):
        try:
            value = function(*args, **(kwargs or {}))
            reporter.send({"kind": "case", "index": index, "value": dumps(value, allow_nan=True)})
        except BaseException as error:  # SystemExit too: a program cannot leave mid-way cleanly
            reporter.send({"kind": "case", "index": index, "error": asserts.describe(error)})
    reporter.send({"kind": "done", "nonce": nonce})
    return 0


class Tampering(BaseException):
    """Raised into the tests when a program hands them a value built to fool a comparison."""


def guarded(function: Callable[..., Any], found: list[str], name: str = "") -> Callable[..., Any]:
    plain = integrity.is_plain

    def call(*args: Any, **kwargs: Any) -> Any:
        value = function(*args, **kwargs)
        if plain(value):  # most answers: nothing to screen
            return value
        reason = integrity.suspicious_value(value)
        if reason:
            found.append(reason)
            raise Tampering(reason)
        return value

    # What tests may look at, without functools.wraps (every page it touches is copied); only a
    # function's own, so no attribute of a program's object runs here.
    if type(function) is types.FunctionType:
        call.__name__, call.__qualname__, call.__doc__ = (
            function.__name__,
            function.__qualname__,
            function.__doc__,
        )
    elif name:
        call.__name__ = call.__qualname__ = name
    call.__wrapped__ = function  # type: ignore[attr-defined]
    return call


def test_namespace(
    namespace: dict[str, Any],
    setup: dict[str, Any],
    prepared: asserts.PreparedTests,
    prelude: integrity.PreludeSnapshot,
    found: list[str],
    recorder: asserts.AssertRecorder,
    before_program: dict[str, Any],
) -> dict[str, Any]:
    """The program's names (the functions and other callables it bound screened, see
    `integrity.needs_screen`), with the prelude's originals, the real standard modules the tests
    name, and pristine builtins. `before_program`: the namespace as the prelude left it (what it
    star-imported is the prelude's, not the program's: hundreds of names in LeetCode's)."""
    baseline: integrity.Baseline = setup["baseline"]
    names = dict(namespace)
    for name, value in namespace.items():
        if before_program.get(name) is value:
            continue
        if integrity.needs_screen(value):
            names[name] = guarded(value, found, name)
        elif name in prepared.names and not callable(value):
            reason = integrity.suspicious_value(value)  # a global the tests read: screened once
            if reason:
                found.append(reason)
    names.update(prelude.names)
    for name, module in baseline.test_modules(prepared.names).items():
        if name in names:
            names[name] = module
    names["__builtins__"] = baseline.builtins  # the zygote's copy, not the dict the program sees
    names[asserts.RECORD] = recorder
    return names


def run_assert(request: dict[str, Any], reporter: Reporter, setup: dict[str, Any]) -> int:
    prepared: asserts.PreparedTests = setup["prepared"]
    if prepared.error is not None:
        reporter.send(prepared.error)
        return 1
    nonce, found = request["nonce"], []
    namespace = fresh_namespace(setup)
    phase, filename = "prelude", integrity.PRELUDE_FILE
    try:
        prelude, before_program = setup["no_prelude"], {}
        if prepared.prelude is not None:
            exec(prepared.prelude, namespace)
            prelude, before_program = integrity.PreludeSnapshot(namespace), dict(namespace)
        recorder = asserts.AssertRecorder(prepared.sites, reporter.tick)
        phase, filename = "program", integrity.PROGRAM_FILE
        exec(program_code(request, setup), namespace)
        names = test_namespace(namespace, setup, prepared, prelude, found, recorder, before_program)
        phase, filename = "tests", integrity.TESTS_FILE
        exec(prepared.tests, names)
        if prepared.entry_point is not None and callable(names.get("check")):
            phase = "entry"
            target = guarded(eval(prepared.entry_point, namespace), found)
            phase = "tests"
            names["check"](target)
    except BaseException as error:
        reporter.send(error_record(phase, error, filename))
        return 1
    changed = setup["baseline"].changes(prepared.names) + prelude.changes()
    tampered = found + [f"the program changed {name}" for name in changed]
    if recorder.first_failure is None and not tampered:
        reporter.send_done(nonce, recorder.passed, recorder.failed)
        return 0
    reporter.send(
        {
            "kind": "done",
            "nonce": nonce,
            "passed": recorder.passed,
            "failed": recorder.failed,
            "first_failure": recorder.first_failure,
            "tampered": tampered,
        }
    )
    return 0


_CAPPED = (resource.RLIMIT_AS, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE, resource.RLIMIT_CORE,
           resource.RLIMIT_MSGQUEUE, resource.RLIMIT_CPU, resource.RLIMIT_NPROC)  # fmt: skip


def hard_limits() -> tuple[tuple[int, int], ...]:
    """The hard limits a child inherits (read once in the zygote: they never change there)."""
    return tuple((which, resource.getrlimit(which)[1]) for which in _CAPPED)


@functools.lru_cache(maxsize=64)
def rlimits(
    memory_mb: int, max_file_mb: int, max_open_files: int, cpu_s: float, process_allowance: int | None,
    hard: tuple[tuple[int, int], ...],
) -> tuple[tuple[int, tuple[int, int]], ...]:  # fmt: skip
    """The (resource, (soft, hard)) pairs a child sets, worked out in the zygote, so that a child
    only calls setrlimit (every object it builds after the fork costs it copied pages)."""
    ceiling = dict(hard)

    def capped(which: int, value: int) -> tuple[int, tuple[int, int]]:
        if ceiling[which] != resource.RLIM_INFINITY:
            value = min(value, ceiling[which])
        return which, (value, value)

    cpu = max(1, int(-(-float(cpu_s) // 1)))
    pairs = [
        capped(resource.RLIMIT_AS, int(memory_mb) << 20),
        capped(resource.RLIMIT_FSIZE, int(max_file_mb) << 20),
        capped(resource.RLIMIT_NOFILE, int(max_open_files)),
        capped(resource.RLIMIT_CORE, 0),
        capped(resource.RLIMIT_MSGQUEUE, 0),
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),  # SIGXCPU, then SIGKILL a second later
    ]
    if process_allowance is not None:
        pairs.append(capped(resource.RLIMIT_NPROC, process_allowance))
    return tuple(pairs)


def limits_plan(
    limits: dict[str, Any], process_allowance: int | None, hard: tuple[tuple[int, int], ...]
) -> Any:
    return rlimits(
        int(limits["memory_mb"]), int(limits["max_file_mb"]), int(limits["max_open_files"]),
        float(limits["cpu_s"]), process_allowance, hard,
    )  # fmt: skip


@functools.lru_cache(maxsize=16)
def start_calls(
    ends: tuple[int, int, int, int], rlimits: tuple[tuple[int, tuple[int, int]], ...]
) -> tuple[tuple[Callable[..., Any], tuple[Any, ...]], ...]:
    """What a child calls first, as (function, arguments): a session of its own, its pipes on fds
    0 to 3 (stdin, stdout, stderr, report) and nothing else open, Python's SIGINT handler, and its
    rlimits (`rlimits`). Worked out in the zygote and cached (run after run, the pipes come back
    on the same fds); a child runs them in one loop (`run_calls`) that the zygote's warm-up ran.
    Written out as code of its own, each child ran that code cold: a first run writes to its
    bytecode and goes through every name's slow lookup, about 20 copied pages."""
    lift: tuple[tuple[Callable[..., Any], tuple[int, int]], ...] = ()
    if min(ends) <= REPORT_FD:  # moved above them all first, so no dup2 overwrites an end
        # (`zygote.main` keeps 0 to 3 taken, so this is for a zygote made in another process)
        top = max(ends) + 1
        lift, ends = (
            tuple((os.dup2, (end, top + i)) for i, end in enumerate(ends)),
            (top, top + 1, top + 2, top + 3),
        )
    return (
        (os.setsid, ()),
        *lift,
        *((os.dup2, (end, fd)) for fd, end in enumerate(ends)),
        (os.closerange, (REPORT_FD + 1, _MAX_FD)),
        # `_signal`, not `signal`: the latter's enum wrappers touch dozens of pages after a fork.
        (_signal.signal, (_signal.SIGINT, _signal.default_int_handler)),
        *((resource.setrlimit, (which, pair)) for which, pair in rlimits),
    )


def run_calls(calls: tuple[tuple[Callable[..., Any], tuple[Any, ...]], ...]) -> None:
    for function, arguments in calls:
        function(*arguments)


def run_program(request: dict[str, Any], setup: dict[str, Any]) -> int:
    """Run the request's program in its mode; the exit status the child ends with."""
    reporter = setup["reporter"]  # made in the zygote: fd 3 is the same in every child
    mode = request["mode"]
    if mode == "script":
        return run_script(request, reporter, setup)
    if mode == "call":
        return run_call(request, reporter, setup)
    return run_assert(request, reporter, setup)


def child_main(request: dict[str, Any], setup: dict[str, Any]) -> None:
    """Entry of the forked child; never returns. `setup["start"]`: see `start_calls`."""
    status = HARNESS_FAILED
    try:
        run_calls(setup["start"])
        status = run_program(request, setup)
    except BaseException:
        try:
            traceback.print_exc()
        finally:
            os._exit(HARNESS_FAILED)
    finally:
        os._exit(status)
