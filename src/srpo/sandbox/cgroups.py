"""A memory ceiling across all the sandboxes of a pool, through a cgroup v2 subtree.

Where this process's cgroup (v2) is delegated to it -- writable by this user (root, or systemd's
`Delegate=yes`), the memory controller available, and no process but srpo's own in it -- srpo
moves its own processes into a leaf `srpo-main`, enables the memory controller below the cgroup,
and gives each pool a child cgroup whose `memory.max` is the pool's ceiling (`memory.swap.max`
0), with one leaf per sandbox. When the sandboxes together reach the ceiling the kernel's OOM
killer acts inside that cgroup, never on srpo or the rest of the machine, and the run that lost
a process to it is reported as `memory` (its leaf's `memory.events` counts the kill).

Elsewhere (cgroup v1, no memory controller in v2, a cgroup that is not ours) each run is capped
(RLIMIT_AS per process, the zygote's watch over the run's processes) but their sum is not;
`delegation()` says why, and `srpo-curate doctor` prints it.

Covers: finding and arming the delegated cgroup, pool cgroups, moving sandboxes in, counting
OOM kills. Does not cover: per-run limits (`limits`, `inside.harness`).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import threading
import time
from dataclasses import dataclass

_MAIN_LEAF = "srpo-main"
_lock = threading.Lock()
_armed: dict[str, str | None] = {}  # delegated folder -> None when armed, else why it failed
_pool_numbers = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Delegation:
    folder: str | None
    """This process's cgroup v2 folder when srpo may put a ceiling below it, else None."""
    reason: str
    """Where the ceiling lives, or why there is none."""


def default_limit_bytes() -> int:
    """Half of the machine's memory (MemTotal)."""
    try:
        for line in _read("/proc/meminfo").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024 // 2
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def cgroup2_folder(proc: str = "/proc/self") -> tuple[str | None, str]:
    """This process's folder in the cgroup v2 hierarchy, or None and why not."""
    try:
        own = next(
            (line[3:] for line in _read(f"{proc}/cgroup").splitlines() if line.startswith("0::")), None
        )
        mounts = [line.split(" - ", 1) for line in _read(f"{proc}/mountinfo").splitlines()]
    except OSError as error:
        return None, f"cannot read {proc}/cgroup or mountinfo: {error}"
    if own is None:
        return None, "no cgroup v2 hierarchy here (cgroup v1 only)"
    for head, tail in (pair for pair in mounts if len(pair) == 2):
        if tail.split()[0] != "cgroup2":
            continue
        fields = head.split()
        mount_root, mount_point = fields[3], fields[4]
        if own == mount_root or own.startswith(mount_root.rstrip("/") + "/"):
            return os.path.normpath(os.path.join(mount_point, own[len(mount_root) :].lstrip("/"))), ""
    return None, f"this process's cgroup v2 {own!r} is not mounted here"


def _ours(pids: list[int]) -> bool:
    """Every pid is this process or one of its descendants."""
    mine = {os.getpid()}
    for pid in sorted(pids):
        try:
            parent = int(_read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone already
        if pid in mine or parent in mine:
            mine.add(pid)
    return all(pid in mine for pid in pids if os.path.exists(f"/proc/{pid}"))


def _procs(folder: str) -> list[int]:
    return [int(pid) for pid in _read(os.path.join(folder, "cgroup.procs")).split()]


def delegation(folder: str | None = None) -> Delegation:
    """Whether a pool ceiling can be set up below `folder` (default: this process's cgroup)."""
    if folder is None:
        folder, why = cgroup2_folder()
        if folder is None:
            return Delegation(None, why)
    try:
        controllers = _read(os.path.join(folder, "cgroup.controllers")).split()
        enabled = _read(os.path.join(folder, "cgroup.subtree_control")).split()
        procs = _procs(folder)
    except OSError as error:
        return Delegation(None, f"cgroup v2 folder {folder} is not readable: {error}")
    if "memory" not in controllers:
        offered = " ".join(controllers) or "none"
        return Delegation(None, f"cgroup v2 at {folder} offers no memory controller (controllers: {offered})")
    control = os.path.join(folder, "cgroup.subtree_control")
    if not (os.access(folder, os.W_OK) and os.access(control, os.W_OK)):
        return Delegation(None, f"cgroup v2 at {folder} is not delegated to this user (not writable)")
    if "memory" not in enabled and not _ours(procs):
        return Delegation(
            None, f"cgroup v2 at {folder} holds processes other than srpo's (no leaf to move them to)"
        )
    return Delegation(folder, f"cgroup v2 at {folder}")


def _arm(folder: str) -> str | None:
    """Enable the memory controller below `folder`, first moving our processes into a leaf;
    None when done, else why not."""
    with _lock:
        if folder in _armed:
            return _armed[folder]
        try:
            if "memory" not in _read(os.path.join(folder, "cgroup.subtree_control")).split():
                leaf = os.path.join(folder, _MAIN_LEAF)
                os.makedirs(leaf, exist_ok=True)
                for pid in _procs(folder):
                    with contextlib.suppress(ProcessLookupError):
                        _write(os.path.join(leaf, "cgroup.procs"), str(pid))
                _write(os.path.join(folder, "cgroup.subtree_control"), "+memory")
            _armed[folder] = None
        except OSError as error:
            _armed[folder] = f"cannot enable the memory controller below {folder}: {error}"
        return _armed[folder]


class PoolCeiling:
    """One pool's cgroup: `memory.max` over all its sandboxes, and a leaf per sandbox."""

    def __init__(self, folder: str, limit_bytes: int) -> None:
        self.folder = folder
        self.limit_bytes = limit_bytes

    @classmethod
    def create(cls, limit_bytes: int, delegated: Delegation | None = None) -> tuple[PoolCeiling | None, str]:
        """A ceiling of `limit_bytes`, or None and why there is none."""
        delegated = delegated or delegation()
        if delegated.folder is None:
            return None, delegated.reason
        failure = _arm(delegated.folder)
        if failure:
            return None, failure
        folder = os.path.join(delegated.folder, f"srpo-pool-{os.getpid()}-{next(_pool_numbers)}")
        try:
            os.makedirs(folder, exist_ok=True)
            _write(os.path.join(folder, "cgroup.subtree_control"), "+memory")
            _write(os.path.join(folder, "memory.max"), str(limit_bytes))
            with contextlib.suppress(FileNotFoundError):  # no swap accounting on this kernel
                _write(os.path.join(folder, "memory.swap.max"), "0")
        except OSError as error:
            return None, f"cannot make a pool cgroup in {delegated.folder}: {error}"
        return cls(folder, limit_bytes), f"{limit_bytes >> 20} MiB for all sandboxes ({folder})"

    def leaf(self, index: int) -> str:
        """The cgroup of sandbox `index` (made on first use)."""
        path = os.path.join(self.folder, f"sandbox-{index}")
        os.makedirs(path, exist_ok=True)
        return path

    @staticmethod
    def adopt(leaf: str, pids: list[int]) -> None:
        """Move `pids` (a sandbox's processes, before it runs anything) into `leaf`."""
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                _write(os.path.join(leaf, "cgroup.procs"), str(pid))

    @staticmethod
    def oom_kills(leaf: str) -> int:
        """Processes of `leaf` the OOM killer has killed so far."""
        try:
            for line in _read(os.path.join(leaf, "memory.events")).splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self) -> None:
        """Remove the pool's cgroups once the processes of its stopped sandboxes are gone."""
        deadline = time.monotonic() + 2.0
        while True:
            try:
                for name in os.listdir(self.folder):
                    path = os.path.join(self.folder, name)
                    if os.path.isdir(path):
                        os.rmdir(path)
                os.rmdir(self.folder)
                return
            except FileNotFoundError:
                return
            except OSError as error:
                # EBUSY: a killed namespace's processes exit asynchronously; anything else stays.
                if error.errno != errno.EBUSY or time.monotonic() > deadline:
                    return
            time.sleep(0.05)
