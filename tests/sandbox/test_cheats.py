"""Programs that try to be graded correct without being correct; each must get 0.

The claims of `srpo.sandbox` about faking success: early exits, a killed harness, always-equal
objects, patched builtins or modules, and forged completion records.
"""

from __future__ import annotations

import textwrap
import time

import pytest

from srpo.sandbox import Limits, SandboxPool, ScriptRun, WeakIsolationWarning

from .conftest import FAST, RLIMITS_ONLY, assert_contained, grade

TWO_ASSERTS = {
    "type": "assert",
    "code": "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n",
    "entry_point": "f",
}
CALL_SQUARE = {
    "type": "call",
    "fn_name": "f",
    "cases": [{"args": [2], "expected": 4}, {"args": [3], "expected": 9}],
}
STDIO_SQUARE = {"type": "stdio", "cases": [{"input": "3\n", "output": "9\n"}]}


def program(source: str) -> str:
    return textwrap.dedent(source).lstrip()


def test_system_exit_zero_in_the_program_fails(pool):
    for source in ("import sys\nsys.exit(0)\n", "def f(x):\n    raise SystemExit(0)\n",
                   "def f(x):\n    exit()\n"):  # fmt: skip
        assert_contained(pool, grade(pool, source, TWO_ASSERTS), "failed", "runtime_error")
        assert_contained(pool, grade(pool, source, CALL_SQUARE), "runtime_error")


def test_hard_exit_before_the_tests_finish_fails(pool):
    # Right on the first case, then exits with status 0 before the second one runs.
    source = "import os\ndef f(x):\n    if x == 3:\n        os._exit(0)\n    return x * x\n"
    assert_contained(pool, grade(pool, source, TWO_ASSERTS), "runtime_error")
    graded = grade(pool, source, CALL_SQUARE)
    assert graded.cases_passed == 1
    assert_contained(pool, graded, "runtime_error")
    assert_contained(pool, grade(pool, "import os\nos._exit(0)\n", STDIO_SQUARE), "failed")


def test_killing_the_harness_fails_and_the_sandbox_recovers(pool):
    source = program("""
        import os, signal
        def f(x):
            for target in (os.getppid(), 1):
                for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT):
                    try:
                        os.kill(target, sig)
                    except OSError:
                        pass
            os._exit(0)
    """)
    assert_contained(pool, grade(pool, source, TWO_ASSERTS), "runtime_error")


def test_killing_an_unprotected_harness_is_caught_by_srpo():
    # Without a PID namespace the zygote can really be killed: the run fails, the sandbox restarts.
    with pytest.warns(WeakIsolationWarning), SandboxPool(1, RLIMITS_ONLY) as weak:
        graded = grade(weak, "import os, signal\ndef f(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n",
                       TWO_ASSERTS)  # fmt: skip
        assert graded.reward == 0.0 and graded.status == "runtime_error"
        assert "harness died" in graded.failure.reason
        assert weak.run(ScriptRun(source="print(6 * 7)"), FAST).stdout == "42\n"
        assert weak.sandboxes[0].starts == 2


def test_always_equal_objects_fail_in_call_tests(pool):
    for returned in ("AlwaysEqual()", "[AlwaysEqual()]", "Sneaky(5)"):
        source = program(f"""
            class AlwaysEqual:
                def __eq__(self, other):
                    return True
            class Sneaky(int):
                def __eq__(self, other):
                    return True
            def f(x):
                return {returned}
        """)
        assert_contained(pool, grade(pool, source, CALL_SQUARE), "failed", "runtime_error")


def test_always_equal_objects_fail_in_assert_tests(pool):
    for returned in ("AlwaysEqual()", "[AlwaysEqual()]", "{'k': AlwaysEqual()}", "Sneaky(5)", "Pair()"):
        source = program(f"""
            class AlwaysEqual:
                def __eq__(self, other):
                    return True
                __ne__ = __eq__
            class Sneaky(int):
                __eq__ = lambda self, other: True
            class Pair:
                def __init__(self):
                    self.inner = AlwaysEqual()
            def f(x):
                return {returned}
        """)
        graded = grade(pool, source, TWO_ASSERTS)
        assert "written by the program" in graded.failure.reason
        assert_contained(pool, graded, "failed")


def test_always_equal_objects_that_hide_from_the_screen_fail(pool):
    """A metaclass's `__eq__` answers `type(x) in (int, ...)` with True; properties named
    `__dict__`, `__mro__` or `__flags__` on a metaclass or class stand in front of the real ones;
    a dunder can be an object that claims to be a builtin function. The screen reads none of
    these through the program's classes."""
    hiding = program("""
        import types
        class Meta(type):
            def __eq__(cls, other):
                return True
            __hash__ = type.__hash__
            __dict__ = property(lambda cls: {})
            __mro__ = property(lambda cls: (object,))
            __flags__ = property(lambda cls: 0)
        class ClassEqual(metaclass=Meta):
            def __eq__(self, other):
                return True
            __hash__ = object.__hash__
        class Impostor:
            __class__ = property(lambda self: types.BuiltinFunctionType)
            def __get__(self, obj, owner=None):
                return lambda *args: True
        class Disguised:
            __eq__ = Impostor()
            __hash__ = object.__hash__
        class AlwaysEqual:
            def __eq__(self, other):
                return True
        class Box:
            __dict__ = property(lambda self: {})
            def __init__(self):
                self.inner = AlwaysEqual()
    """)
    cases = (
        ("ClassEqual()", "assert candidate(1) == 2"),
        ("[ClassEqual()]", "assert candidate(1) == [2]"),
        ("Disguised()", "assert candidate(1) == 2"),
        ("Box()", "assert candidate(1).inner == 2"),
        ("ClassEqual", "assert candidate(1) == int"),
    )
    for returned, check in cases:
        tests = {"type": "assert", "code": f"def check(candidate):\n    {check}\n", "entry_point": "f"}
        graded = grade(pool, hiding + f"def f(x):\n    return {returned}\n", tests)
        assert graded.failure is not None and "written by the program" in graded.failure.reason, returned
        assert_contained(pool, graded, "failed")


def test_always_equal_objects_from_any_callable_the_tests_call_fail(pool):
    """Bare asserts call the program's names directly: a callable object, a partial or a bound
    method is screened like a function."""
    base = program("""
        import functools
        class AlwaysEqual:
            def __eq__(self, other):
                return True
        class Maker:
            def __call__(self, *args):
                return AlwaysEqual()
            def method(self, *args):
                return AlwaysEqual()
    """)
    tests = {"type": "assert", "code": "assert remove_occ('hello', 'l') == 'heo'\n"}
    for definition in (
        "remove_occ = Maker()",
        "remove_occ = functools.partial(lambda *args: AlwaysEqual())",
        "remove_occ = Maker().method",
    ):
        graded = grade(pool, base + definition + "\n", tests)
        assert graded.failure is not None and "written by the program" in graded.failure.reason, definition
        assert_contained(pool, graded, "failed")


def test_a_prelude_name_the_program_rebinds_does_not_reach_the_tests(pool):
    # The prelude's own names (LeetCode's star imports: hundreds) reach the tests as the prelude
    # made them, so a program that binds one again to an always-equal maker fools nothing.
    tests = {
        "type": "assert",
        "prelude": "from functools import *\nfrom heapq import *\n",
        "code": "assert nlargest(1, [3, 1]) == [3]\nassert reduce(lambda a, b: a + b, [1, 2]) == 3\n",
    }
    assert grade(pool, "x = 1\n", tests).status == "passed"
    rebound = "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n"
    rebound += "def nlargest(*args):\n    return AlwaysEqual()\n"
    wrong = {**tests, "code": "assert nlargest(1, [3, 1]) == [4]\n"}
    assert_contained(pool, grade(pool, rebound, wrong), "failed")


def test_an_always_equal_global_the_tests_read_fails(pool):
    tests = {
        "type": "assert",
        "prelude": "LIMIT = 10\n",
        "code": "assert twice(5) == LIMIT\nassert twice(1) == SEEN\n",
    }
    honest = "SEEN = 2\ndef twice(x):\n    return 2 * x\n"
    assert grade(pool, honest, tests).status == "passed"
    cheat = "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n"
    for binding in ("LIMIT = AlwaysEqual()", "SEEN = AlwaysEqual()", "SEEN = [AlwaysEqual()]"):
        source = cheat + binding + "\nSEEN = globals().get('SEEN', 2)\ndef twice(x):\n    return 0\n"
        graded = grade(pool, source, tests)
        assert graded.failure is not None and "written by the program" in graded.failure.reason, binding
        assert_contained(pool, graded, "failed")


def test_hiding_a_patched_module_from_the_check_fails(pool):
    source = program("""
        import math, types
        original = math.isclose
        math.isclose = lambda *args, **kwargs: True
        class Pristine(types.ModuleType):
            __dict__ = property(lambda module: {"isclose": original})
        math.__class__ = Pristine
        def f(x):
            return 0
    """)
    tests = {"type": "assert", "code": "import math\ndef check(candidate):\n    assert math.isclose(candidate(1), 1)\n",
             "entry_point": "f"}  # fmt: skip
    graded = grade(pool, source, tests)
    assert graded.failure is not None and "math.isclose" in graded.failure.reason
    assert_contained(pool, graded, "failed")


def test_honest_objects_still_pass_the_screen(pool):
    source = program("""
        import collections
        class Holder:
            __slots__ = ("value",)
            def __init__(self, value):
                self.value = value
        TABLE = collections.UserDict(k=1)
        def f(x):
            return [Holder(x), {"k": (x, frozenset({x}))}, collections.UserDict(k=x), collections.Counter("aab")]
    """)
    tests = {
        "type": "assert",
        "code": "def check(candidate):\n    got = candidate(3)\n    assert got[0].value == 3\n"
        "    assert got[1] == {'k': (3, frozenset({3}))}\n    assert got[2] == {'k': 3} and TABLE['k'] == 1\n"
        "    assert got[3] == {'a': 2, 'b': 1}\n",
        "entry_point": "f",
    }
    graded = grade(pool, source, tests)
    assert graded.status == "passed", graded


def test_always_equal_values_inside_prelude_classes_fail(pool):
    tests = {
        "type": "assert",
        "prelude": "class Node:\n    def __init__(self, val):\n        self.val = val\n",
        "code": "def check(candidate):\n    assert candidate(1).val == Node(2).val\n",
        "entry_point": "f",
    }
    source = "class Anything:\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return Node(Anything())\n"
    assert_contained(pool, grade(pool, source, tests), "failed")


def test_patched_builtins_fail(pool):
    tests = {
        "type": "assert",
        "code": "import math\ndef check(candidate):\n    assert abs(candidate(2) - 4.5) < 1e-9\n"
        "    assert math.isclose(candidate(3), 9.5)\n",
        "entry_point": "f",
    }
    patches = (
        "import builtins\nbuiltins.abs = lambda value: 0\n",
        "import math\nmath.isclose = lambda *args, **kwargs: True\n",
        "import builtins\nsetattr(builtins, 'abs', len)\n",
    )
    for patch in patches:
        source = patch + "def f(x):\n    return x * x\n"
        graded = grade(pool, source, tests)
        assert graded.failure is not None and graded.status == "failed", graded
        assert_contained(pool, graded, "failed")


def test_patching_builtins_while_the_tests_run_fails(pool):
    source = program("""
        import builtins, math
        def f(x):
            builtins.abs = lambda value: 0
            math.isclose = lambda *args, **kwargs: True
            return 0
    """)
    tests = {
        "type": "assert",
        "code": "import math\ndef check(candidate):\n    candidate(1)\n    assert abs(candidate(2) - 4) < 1e-9\n",
        "entry_point": "f",
    }
    graded = grade(pool, source, tests)
    assert "builtins.abs" in graded.failure.reason or graded.failure.reason.startswith("AssertionError")
    assert_contained(pool, graded, "failed")


def test_redefining_or_patching_prelude_helpers_fails(pool):
    prelude = "def is_same(a, b):\n    return a == b\n"
    tests = {"type": "assert", "prelude": prelude, "entry_point": "f",
             "code": "def check(candidate):\n    assert is_same(candidate(2), 4)\n"}  # fmt: skip
    redefined = "def is_same(a, b):\n    return True\ndef f(x):\n    return 0\n"
    assert_contained(pool, grade(pool, redefined, tests), "failed")
    patched = "is_same.__code__ = (lambda a, b: True).__code__\ndef f(x):\n    return 0\n"
    graded = grade(pool, patched, tests)
    assert "prelude.is_same" in graded.failure.reason
    assert_contained(pool, graded, "failed")


def test_forged_completion_records_fail(pool):
    # The harness protocol is public; the nonce of the run is not.
    source = program("""
        import json, os
        def f(x):
            record = {"kind": "done", "nonce": "0" * 32, "passed": 99, "failed": 0,
                      "first_failure": None, "tampered": []}
            os.write(3, (json.dumps(record) + "\\n").encode())
            for index in range(2):
                os.write(3, (json.dumps({"kind": "case", "index": index, "value": "9"}) + "\\n").encode())
            os._exit(0)
    """)
    assert_contained(pool, grade(pool, source, TWO_ASSERTS), "runtime_error")
    assert_contained(pool, grade(pool, source, CALL_SQUARE), "failed", "runtime_error")


def test_printing_the_expected_answer_without_reading_input_is_only_right_by_luck(pool):
    # stdio expected outputs never enter the sandbox: the program cannot look them up.
    source = "import gc, sys\nprint([o for o in gc.get_objects() if isinstance(o, str) and o.strip() == '9'][:1])\n"
    assert_contained(pool, grade(pool, source, STDIO_SQUARE), "failed")


def test_a_failing_assert_does_not_stop_the_count(pool):
    graded = grade(pool, "def f(x):\n    return 4\n", TWO_ASSERTS)
    assert (graded.status, graded.cases_passed, graded.cases_total) == ("failed", 1, 2)
    assert graded.failure.got == "assert candidate(3) == 9" and graded.failure.line == 3


@pytest.mark.slow
def test_a_stopped_harness_is_killed_and_replaced_by_srpo():
    # Without a PID namespace a program can freeze its harness; srpo's own deadline still holds.
    limits = Limits(timeout_s=1.0, total_timeout_s=1.0)
    with pytest.warns(WeakIsolationWarning), SandboxPool(1, RLIMITS_ONLY) as weak:
        started = time.monotonic()
        source = "import os, signal\ndef f(x):\n    os.kill(os.getppid(), signal.SIGSTOP)\n    return x * x\n"
        graded = grade(weak, source, TWO_ASSERTS, limits)
        assert (graded.reward, graded.status) == (0.0, "timeout")
        assert "killed and restarted" in graded.failure.reason
        assert time.monotonic() - started < limits.total_timeout_s + 8.0
        assert weak.run(ScriptRun(source="print(6 * 7)"), FAST).stdout == "42\n"
