"""Isolation levels: the best one is chosen and reported, fallbacks work and say so, and the pool
survives the threads that use it. `srpo-curate doctor` prints the level and what a probe saw."""

from __future__ import annotations

import json
import shutil
import threading
import warnings

import pytest

from srpo.sandbox import (
    IsolationUnavailable,
    SandboxOptions,
    SandboxPool,
    ScriptRun,
    WeakIsolationWarning,
    plan_isolation,
)
from tests.helpers import run_cli

from .conftest import FAST, RLIMITS_ONLY, grade

SQUARE_TESTS = [
    {"type": "stdio", "cases": [{"input": "3\n", "output": "9\n"}]},
    {"type": "call", "fn_name": "f", "cases": [{"args": [3], "expected": 9}]},
    {"type": "assert", "code": "def check(candidate):\n    assert candidate(3) == 9\n", "entry_point": "f"},
]
ALLOWED_ENVIRONMENT = {"PATH", "LANG", "LC_CTYPE", "HOME", "TMPDIR", "PWD", "MALLOC_ARENA_MAX",
                       "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}  # fmt: skip
SQUARE = "import sys\ndef f(x):\n    return x * x\nif __name__ == '__main__' and not sys.stdin.isatty():\n"
SQUARE += "    data = sys.stdin.read().split()\n    if data:\n        print(f(int(data[0])))\n"


def test_auto_takes_the_strongest_level_that_starts():
    plan = plan_isolation()
    stronger = {"bwrap": (), "unshare": ("bwrap",), "rlimits": ("bwrap", "unshare")}[plan.level]
    for level in stronger:  # each level skipped is explained
        assert any(note.startswith(f"{level}:") for note in plan.notes), plan.notes


@pytest.mark.parametrize("level", ["bwrap", "unshare", "rlimits"])
def test_every_level_available_here_grades_all_formats_and_reports_itself(level):
    try:
        plan_isolation(SandboxOptions(level=level))
    except IsolationUnavailable as error:
        pytest.skip(f"{level} does not run here: {error}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakIsolationWarning)
        pool = SandboxPool(1, SandboxOptions(level=level, min_isolation=level))
    with pool:
        for tests in SQUARE_TESTS:
            graded = grade(pool, SQUARE, tests)
            assert (graded.status, graded.isolation) == ("passed", level), graded
        result = pool.run(ScriptRun(source="import os\nprint(' '.join(sorted(os.environ)))"), FAST)
        assert result.isolation == level
        assert set(result.stdout.split()) <= ALLOWED_ENVIRONMENT


@pytest.mark.parametrize("level", ["bwrap", "unshare", "rlimits"])
def test_every_level_starts_its_zygote_with_library_calls_bound_at_start(level):
    # A child then resolves no library call on its first use (see `isolation._ENV`); the
    # environment test above shows programs do not see the variable.
    try:
        plan = plan_isolation(SandboxOptions(level=level))
    except IsolationUnavailable as error:
        pytest.skip(f"{level} does not run here: {error}")
    launch = plan.launch("pass")
    if level == "bwrap":
        flags = launch.argv[: launch.argv.index(plan.python.executable)]
        assert any(flags[i : i + 3] == ["--setenv", "LD_BIND_NOW", "1"] for i in range(len(flags)))
    else:
        assert launch.popen["env"]["LD_BIND_NOW"] == "1"
    if launch.scratch:
        shutil.rmtree(launch.scratch)


def test_weaker_levels_warn_loudly():
    with pytest.warns(WeakIsolationWarning, match="rlimits"):
        SandboxPool(1, RLIMITS_ONLY).close()


def test_an_impossible_level_is_refused_with_the_reason():
    with pytest.raises(IsolationUnavailable, match="cannot run"):
        plan_isolation(SandboxOptions(python="/nonexistent/python3"))


def test_sandboxes_outlive_the_threads_that_started_them(pool):
    # bwrap's --die-with-parent follows the starting thread; the pool must not depend on it.
    sandbox = pool.sandboxes[0]
    sandbox.stop()
    worker = threading.Thread(target=lambda: sandbox.run(ScriptRun(source="print(1)"), FAST))
    worker.start()
    worker.join()
    starts = sandbox.starts
    for _ in range(5):
        assert sandbox.run(ScriptRun(source="print(2)"), FAST).stdout == "2\n"
    assert sandbox.starts == starts


def test_doctor_prints_the_level_and_what_the_probe_saw():
    result = run_cli("doctor")
    assert result.returncode == 0, result.stderr
    level = plan_isolation().level
    assert f"isolation: {level}\n" in result.stdout
    assert "check environment: clean" in result.stdout
    if level in ("bwrap", "unshare"):
        assert "check network: blocked" in result.stdout
    if level == "bwrap":
        assert "check host files: hidden" in result.stdout
        assert "check writing outside scratch: blocked" in result.stdout


def test_doctor_json_and_a_named_level():
    result = run_cli("doctor", "--level", "rlimits", "--min-isolation", "rlimits", "--format", "json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["level"] == "rlimits" and found["checks"]["environment"] == "clean"


def test_doctor_rejects_unknown_levels():
    result = run_cli("doctor", "--level", "docker")
    assert result.returncode == 2 and "--level must be one of" in result.stderr


def test_doctor_has_help():
    result = run_cli("doctor", "--help")
    assert result.returncode == 0 and "Usage" in result.stdout and "--level" in result.stdout
