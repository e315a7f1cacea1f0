"""Resource limits for one run, and the options of a sandbox itself."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

IsolationLevel = Literal["bwrap", "unshare", "rlimits"]
LEVELS: tuple[IsolationLevel, ...] = ("bwrap", "unshare", "rlimits")


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What one run may use. Every time limit is enforced by a parent that kills, never by the
    program's own process; the rest are kernel rlimits set in the program's process."""

    timeout_s: float = 5.0
    """Wall clock without progress: one stdio case, one call case, or one assert."""
    total_timeout_s: float = 60.0
    """Wall clock for one run in all (and, in `srpo.verify.code`, for all runs of one program)."""
    cpu_s: float | None = None
    """CPU seconds per process (RLIMIT_CPU); None: `total_timeout_s`."""
    memory_mb: int = 1024
    """Address space of each process (RLIMIT_AS), and private resident memory of a run's processes
    together (measured by the zygote every 20 ms)."""
    max_processes: int = 32
    """Processes and threads a run may have at once, its main process included (RLIMIT_NPROC)."""
    max_file_mb: int = 32
    """Largest file a run may write (RLIMIT_FSIZE)."""
    max_open_files: int = 128
    """Open file descriptors per process (RLIMIT_NOFILE)."""
    max_output_kb: int = 1024
    """Captured stdout (and stderr) per run; a run that writes more is stopped."""

    def __post_init__(self) -> None:
        for name in (
            "timeout_s",
            "total_timeout_s",
            "memory_mb",
            "max_processes",
            "max_file_mb",
            "max_open_files",
            "max_output_kb",
        ):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")

    def for_request(
        self, *, timeout_s: float | None = None, total_timeout_s: float | None = None
    ) -> dict[str, Any]:
        """The dict the zygote reads, with this run's own time budget where given."""
        # Not `asdict`: it deep-copies every field, and this runs once per program run.
        values = {name: getattr(self, name) for name in _LIMIT_FIELDS}
        if timeout_s is not None:
            values["timeout_s"] = timeout_s
        if total_timeout_s is not None:
            values["total_timeout_s"] = total_timeout_s
        values["timeout_s"] = min(values["timeout_s"], values["total_timeout_s"])
        values["cpu_s"] = self.cpu_s or values["total_timeout_s"]
        return values


_LIMIT_FIELDS = tuple(field.name for field in fields(Limits))


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxOptions:
    """How sandboxes are started; one pool shares one set of options."""

    level: Literal["auto", "bwrap", "unshare", "rlimits"] = "auto"
    """`auto` takes the strongest level that works here; naming one fails if it does not."""
    min_isolation: IsolationLevel = "bwrap"
    """The weakest level untrusted programs may run under: a pool whose level is weaker refuses to
    start (fail closed) instead of running them with less. `rlimits` accepts every level."""
    python: str | None = None
    """Interpreter for programs; default: this one, if the sandbox user may run it."""
    scratch_mb: int = 64
    """Size of the private writable scratch directory (a tmpfs under bubblewrap)."""
    seccomp: bool = True
    """Refuse the system calls listed in `srpo.sandbox.inside.seccomp`."""
    total_memory_mb: int | None = None
    """Memory of all of a pool's sandboxes together, where a cgroup v2 subtree is delegated (see
    `srpo.sandbox.cgroups`); None: half of the machine's memory. Elsewhere only each run is capped."""
    start_timeout_s: float = 20.0
    """How long a sandbox may take to start before it counts as broken."""

    def __post_init__(self) -> None:
        if self.level not in ("auto", *LEVELS):
            raise ValueError(f"SandboxOptions.level must be auto or one of {LEVELS}, got {self.level!r}")
        if self.min_isolation not in LEVELS:
            raise ValueError(
                f"SandboxOptions.min_isolation must be one of {LEVELS}, got {self.min_isolation!r}"
            )


DEFAULT_LIMITS = Limits()
DEFAULT_OPTIONS = SandboxOptions()
