"""Fixtures for the sandbox tests: a pool per test module, short limits, containment checks."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from srpo.sandbox import Limits, SandboxOptions, SandboxPool, ScriptRun
from srpo.verify.code import CodeGrade, CodeItem, grade_code

# Short enough that the loop and bomb tests take about a second each.
FAST = Limits(timeout_s=1.0, total_timeout_s=3.0, memory_mb=512, max_processes=16, max_output_kb=256,
              max_file_mb=8)  # fmt: skip
# The weakest level, explicitly allowed (the default minimum, bwrap, refuses it).
RLIMITS_ONLY = SandboxOptions(level="rlimits", min_isolation="rlimits")


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(2) as sandboxes:
        yield sandboxes


def requires(pool: SandboxPool, *levels: str) -> None:
    """Skip a claim that only holds at some isolation levels (the docstring says which)."""
    if pool.isolation not in levels:
        pytest.skip(f"this claim needs isolation {' or '.join(levels)}; this machine gives {pool.isolation}")


def check_tests(expected: object, *, call: str = "candidate()") -> dict[str, object]:
    """Assert-style tests asking `f` for `expected`, in the catalog's format."""
    code = f"def check(candidate):\n    assert {call} == {expected!r}\n"
    return {"type": "assert", "code": code, "entry_point": "f"}


def grade(pool: SandboxPool, program: str, tests: object, limits: Limits = FAST) -> CodeGrade:
    return grade_code(CodeItem(response=program, tests=tests, is_code=True), limits=limits, pool=pool)


def assert_nothing_left(pool: SandboxPool) -> None:
    """Every sandbox holds its zygote and nothing else."""
    deadline = time.monotonic() + 2.0
    while True:
        crowded = {index: s.members() for index, s in enumerate(pool.sandboxes) if len(s.members()) > 1}
        if not crowded or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not crowded, f"processes left in sandboxes: {crowded}"


def assert_responsive(pool: SandboxPool) -> None:
    started = time.monotonic()
    result = pool.run(ScriptRun(source="print(sum(range(5)))"), FAST)
    assert result.outcome == "exited" and result.stdout == "10\n", result
    assert time.monotonic() - started < 3.0


def assert_contained(pool: SandboxPool, graded: CodeGrade, *statuses: str) -> None:
    """Graded 0 with one of `statuses`, nothing left running, and the next program runs at once."""
    assert graded.reward == 0.0, graded
    assert graded.status in statuses, graded
    assert_nothing_left(pool)
    assert_responsive(pool)


def host_processes_with(marker: str) -> list[int]:
    """Host PIDs whose command line contains `marker` (zombies excluded)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open(f"/proc/{name}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != b"Z":
            found.append(int(name))
    return found
