"""The grader's settings, one shape for every command that grades: `srpo-curate verify`, `grade`,
`difficulty` and `srpo-train` all read a `grader` section (`GraderConfig`), from a config file or
`--set grader.sandbox.memory_mb=256`, and `--workers` / `--timeout` set its two everyday fields.

- `workers` and `timeout_s` bound both domains: a math comparison runs in a worker process that
  is killed at `timeout_s`; a code response runs in a sandbox where each test case (a stdio case,
  a call case, one assert) gets `timeout_s` and the whole response `sandbox.total_timeout_s`.
- `sandbox` holds the rest of what one program may use (memory, processes, files, output) and
  how sandboxes are isolated.

Covers: the fields, their checks, and turning them into the pools' own options. Does not cover:
grading itself (`grading`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from srpo.errors import InputError

if TYPE_CHECKING:
    from srpo.sandbox import Limits, SandboxOptions
    from srpo.verify.pool import PoolOptions


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    """What one code response may use in the sandbox, and how sandboxes are isolated."""

    total_timeout_s: float = 60.0
    """Wall clock for all the test cases of one response together (each case gets the grader's
    `timeout_s`)."""
    memory_mb: int = 1024
    """Address space of each process of a program, and private memory of all of them together."""
    max_processes: int = 32
    """Processes and threads a program may have at once."""
    max_file_mb: int = 32
    """Largest file a program may write."""
    max_open_files: int = 128
    """Open file descriptors per process."""
    max_output_kb: int = 1024
    """Captured stdout (and stderr) per run; a program that writes more is stopped."""
    isolation: Literal["auto", "bwrap", "unshare", "rlimits"] = "auto"
    """`auto` takes the strongest level that works here; naming one fails if it does not
    (see `srpo-curate doctor`)."""
    min_isolation: Literal["bwrap", "unshare", "rlimits"] = "bwrap"
    """The weakest isolation untrusted code may run under (fail closed): below it, grading code
    stops with an error naming this setting, never a silent downgrade. `bwrap`: private
    namespaces, a read-only system, private scratch and /tmp, no network. Lower it (`--set
    grader.sandbox.min_isolation=unshare`) only where bubblewrap cannot run and what `srpo-curate
    doctor` lists for the weaker level is acceptable."""
    scratch_mb: int = 64
    """Size of a sandbox's private writable scratch directory (a tmpfs under bubblewrap)."""
    total_memory_mb: int | None = None
    """Memory of all sandboxes together (`workers` of them), where the machine delegates a cgroup
    v2 subtree to srpo; None: half of the machine's memory. Elsewhere only each program is capped
    (`memory_mb`); `srpo-curate doctor` says which."""

    def validate(self) -> None:
        for name in ("total_timeout_s", "memory_mb", "max_processes", "max_file_mb", "max_open_files",
                     "max_output_kb", "scratch_mb"):  # fmt: skip
            value = getattr(self, name)
            if not value > 0:
                raise InputError(f"grader.sandbox.{name} must be positive, got {value}")
        if self.total_memory_mb is not None and not self.total_memory_mb > 0:
            raise InputError(f"grader.sandbox.total_memory_mb must be positive, got {self.total_memory_mb}")

    def limits(self, *, timeout_s: float) -> Limits:
        from srpo.sandbox import Limits

        return Limits(
            timeout_s=min(timeout_s, self.total_timeout_s), total_timeout_s=self.total_timeout_s,
            memory_mb=self.memory_mb, max_processes=self.max_processes, max_file_mb=self.max_file_mb,
            max_open_files=self.max_open_files, max_output_kb=self.max_output_kb,
        )  # fmt: skip

    def options(self) -> SandboxOptions:
        from srpo.sandbox import SandboxOptions

        return SandboxOptions(
            level=self.isolation,
            min_isolation=self.min_isolation,
            scratch_mb=self.scratch_mb,
            total_memory_mb=self.total_memory_mb,
        )


@dataclass(frozen=True, kw_only=True)
class GraderConfig:
    """How responses are graded: worker processes, time limits, the code sandbox."""

    workers: int = 2
    """Worker processes for math algebra, and sandboxes running code at once."""
    timeout_s: float = 5.0
    """Hard limit for one math comparison, and for each test case of a code response (a timeout
    scores 0)."""
    math_memory_mb: int | None = 4096
    """Address-space limit of each math worker process (sympy can blow up); None: no limit."""
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)

    def validate(self) -> None:
        if self.workers < 1:
            raise InputError(f"grader.workers (--workers) must be at least 1, got {self.workers}")
        if not self.timeout_s > 0:
            raise InputError(f"grader.timeout_s (--timeout) must be positive, got {self.timeout_s}")
        self.sandbox.validate()

    def code_limits(self) -> Limits:
        """The sandbox limits of one code response."""
        return self.sandbox.limits(timeout_s=self.timeout_s)

    def pool_options(self, *, chunk_size: int = 16) -> PoolOptions:
        """The math worker pool's options."""
        from srpo.verify.pool import PoolOptions

        return PoolOptions(
            workers=self.workers,
            timeout_s=self.timeout_s,
            memory_mb=self.math_memory_mb,
            chunk_size=chunk_size,
        )


@dataclass(frozen=True, kw_only=True)
class GradingConfig:
    """The settings of `srpo-curate grade`: its `grader` section (the same as every command's)."""

    grader: GraderConfig = field(default_factory=GraderConfig)
    batch_size: int = 2000
    """Lines graded (and held in memory) at a time."""
