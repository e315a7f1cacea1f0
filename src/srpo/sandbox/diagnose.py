"""What isolation code sandboxes get on this machine, and proof that it holds.

`diagnose()` plans the isolation (see `isolation`), then runs one program in a sandbox that tries
what the level should prevent: reaching a listener this process opens on the host's loopback,
reading and writing a file in a host folder, seeing an environment variable set here, and
starting more processes than allowed. Each attempt is reported as observed, not as assumed. It
also says which binary gives the isolation (the system's bwrap or the bundled one, and its
version), whether the level meets the minimum (`SandboxOptions.min_isolation`: below it, grading
refuses to run code), and whether memory is capped across sandboxes or per sandbox only.
Used by `srpo-curate doctor`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field

from srpo.sandbox import cgroups, tools
from srpo.sandbox.isolation import IsolationUnavailable, plan_isolation
from srpo.sandbox.limits import Limits, SandboxOptions
from srpo.sandbox.runs import ScriptRun
from srpo.sandbox.worker import Sandbox

_PROBE = """
import json, os, socket, sys
port, folder, marker, most = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
seen = {}
try:
    socket.create_connection(("127.0.0.1", port), timeout=1).close()
    seen["network"] = "reached the host"
except OSError as error:
    seen["network"] = "blocked (" + type(error).__name__ + ")"
try:
    open(os.path.join(folder, "visible.txt")).read()
    seen["host files"] = "readable"
except OSError:
    seen["host files"] = "hidden"
try:
    open(os.path.join(folder, "written.txt"), "w").write("x")
    seen["writing outside scratch"] = "possible"
except OSError:
    seen["writing outside scratch"] = "blocked"
seen["environment"] = "leaks" if marker in repr(dict(os.environ)) else "clean"
children = 0
try:
    while children < most + 8:
        if os.fork() == 0:
            import time
            time.sleep(30)
            os._exit(0)
        children += 1
    seen["process limit"] = "not enforced"
except OSError:
    seen["process limit"] = "enforced at " + str(children + 1) + " processes"
print(json.dumps(seen))
"""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    level: str
    """The isolation level in force (empty when none works)."""
    summary: str
    notes: tuple[str, ...]
    tool_version: str
    tool: str = ""
    """The bwrap or unshare binary, and where it comes from (system, bundled)."""
    minimum: str = ""
    """`SandboxOptions.min_isolation`: the weakest level grading runs code under."""
    meets_minimum: bool = True
    memory_ceiling: str = ""
    """Whether memory is capped across all sandboxes (a cgroup v2 subtree) or per sandbox only."""
    checks: dict[str, str] = field(default_factory=dict)
    """What the probe program observed: network, host files, writing, environment, processes."""
    zygote: dict[str, object] = field(default_factory=dict)
    """What the sandbox reported at start-up: uid, pid namespace, seccomp, non-dumpable."""
    seconds: float = 0.0
    error: str = ""


def _probe(sandbox: Sandbox, folder: str, marker: str) -> dict[str, str]:
    limits = Limits(timeout_s=10.0, total_timeout_s=10.0, max_processes=16)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        argv = f"import sys; sys.argv = ['probe', {str(port)!r}, {folder!r}, {marker!r}, '16']\n"
        result = sandbox.run(ScriptRun(source=argv + _PROBE), limits)
    try:
        return json.loads(result.stdout)
    except ValueError:
        return {"probe": f"did not run: {result.outcome} {result.stderr.strip()[-200:]}"}


def _memory_ceiling() -> str:
    found = cgroups.delegation()
    if found.folder is None:
        return f"per sandbox only ({found.reason})"
    return f"all sandboxes of a pool together, {found.reason} (grader.sandbox.total_memory_mb)"


def diagnose(options: SandboxOptions = SandboxOptions()) -> Diagnosis:  # noqa: B008 - frozen
    """Plan the isolation for `options` and check it with a probe program."""
    started = time.perf_counter()
    try:
        plan = plan_isolation(options)
    except IsolationUnavailable as error:
        return Diagnosis(
            level="", summary="", notes=(), tool_version="", error=str(error),
            minimum=options.min_isolation, meets_minimum=False,
        )  # fmt: skip
    folder = tempfile.mkdtemp(prefix="srpo-doctor-")
    marker = f"SRPO_DOCTOR_{secrets.token_hex(4)}"
    sandbox = Sandbox(plan)
    try:
        os.chmod(folder, 0o777)
        with open(os.path.join(folder, "visible.txt"), "w") as handle:
            handle.write("a host file")
        os.chmod(os.path.join(folder, "visible.txt"), 0o644)
        os.environ[marker] = "1"
        checks = _probe(sandbox, folder, marker)
        zygote = dict(sandbox.hello)
    finally:
        os.environ.pop(marker, None)
        sandbox.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return Diagnosis(
        level=plan.level,
        summary=plan.summary(),
        notes=plan.notes,
        tool_version=tools.version(plan.tool) if plan.tool else "",
        tool=f"{plan.tool} ({plan.tool_origin})" if plan.tool else "",
        minimum=options.min_isolation,
        meets_minimum=not plan.below_minimum,
        memory_ceiling=_memory_ceiling(),
        checks=checks,
        zygote=zygote,
        seconds=time.perf_counter() - started,
    )
