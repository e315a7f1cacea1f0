"""Claims of `srpo.sandbox` about resources and isolation, one adversarial program each.

Each program is graded through `srpo.verify.code` (it must get 0 with the right status), then the
test checks that nothing of it is left running and that the next program runs at once. Where a
claim needs more than that, the raw sandbox result shows the limit held.
"""

from __future__ import annotations

import os
import secrets
import socket
import textwrap
import time
from pathlib import Path

import pytest

from srpo.sandbox import Limits, ScriptRun

from .conftest import (
    FAST,
    assert_contained,
    assert_nothing_left,
    check_tests,
    grade,
    host_processes_with,
    requires,
)


def program(source: str) -> str:
    return textwrap.dedent(source).lstrip()


def test_infinite_loop_is_stopped_at_the_deadline(pool):
    started = time.monotonic()
    graded = grade(pool, "def f():\n    while True:\n        pass\n", check_tests(1))
    assert time.monotonic() - started < FAST.timeout_s + 2.0
    assert_contained(pool, graded, "timeout")


def test_children_that_ignore_sigterm_and_start_new_sessions_are_killed(pool):
    marker = f"srpo-stubborn-{secrets.token_hex(4)}"
    source = program(f"""
        import os, signal, sys, time
        def f():
            for _ in range(3):
                if os.fork() == 0:
                    os.setsid()
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)
                    os.execv(sys.executable, [sys.executable, "-c",
                             "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)",
                             "{marker}"])
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                time.sleep(0.01)
    """)
    graded = grade(pool, source, check_tests(1))
    assert_contained(pool, graded, "timeout")
    assert host_processes_with(marker) == []


def test_fork_bomb_is_capped_and_cleaned_up(pool):
    source = "import os\ndef f():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n"
    assert_contained(pool, grade(pool, source, check_tests(1)), "timeout", "runtime_error")


def test_process_count_stops_at_max_processes(pool):
    source = program("""
        import os, time
        made = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                made += 1
        except OSError:
            print(made)
    """)
    result = pool.run(ScriptRun(source=source), FAST)
    assert result.outcome == "exited", result
    assert 0 < int(result.stdout) < FAST.max_processes
    assert_nothing_left(pool)


def test_thread_bomb_is_capped(pool):
    source = program("""
        import threading, time
        started = 0
        try:
            while True:
                threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
                started += 1
        except RuntimeError:
            print(started)
    """)
    result = pool.run(ScriptRun(source=source), FAST)
    assert result.outcome == "exited", result
    assert 0 < int(result.stdout) < FAST.max_processes
    graded = grade(
        pool, "import threading, time\ndef f():\n" + textwrap.indent(source, "    "), check_tests(1)
    )
    assert_contained(pool, graded, "failed", "runtime_error", "timeout")


def test_memory_bomb_is_stopped(pool):
    # Filling 500 MB takes over a second on a loaded 2-core machine: more than FAST's deadline.
    limits = Limits(timeout_s=10.0, total_timeout_s=10.0, memory_mb=512, max_processes=16)
    graded = grade(pool, "def f():\n    hog = []\n    while True:\n        hog.append(bytearray(1 << 24))\n",
                   check_tests(1), limits)  # fmt: skip
    assert_contained(pool, graded, "memory")


def test_memory_spread_over_processes_is_stopped_by_the_run_ceiling(pool):
    # Each process stays under RLIMIT_AS; together they pass memory_mb.
    source = program("""
        import os, time
        def f():
            for _ in range(6):
                if os.fork() == 0:
                    break
            hog = []
            for _ in range(20):
                hog.append(bytearray(10 << 20))
            time.sleep(30)
    """)
    limits = Limits(timeout_s=5.0, total_timeout_s=5.0, memory_mb=400, max_processes=16)
    assert_contained(pool, grade(pool, source, check_tests(1), limits), "memory")


def test_output_flood_is_cut(pool):
    result = pool.run(ScriptRun(source="while True:\n    print('x' * 1000)\n"), FAST)
    assert result.outcome == "output_limit"
    assert len(result.stdout) <= FAST.max_output_kb * 1024
    graded = grade(pool, "def f():\n    while True:\n        print('x' * 1000)\n", check_tests(1))
    assert_contained(pool, graded, "runtime_error")


def test_disk_fill_is_capped(pool):
    source = program("""
        written = 0
        try:
            with open("big", "wb") as handle:
                while True:
                    handle.write(b"x" * (1 << 20))
                    written += 1
        except OSError as error:
            print(written, error.errno)
        files = 0
        try:
            while True:
                with open(f"file{files}", "wb") as handle:
                    handle.write(b"x" * (4 << 20))
                files += 1
        except OSError as error:
            print(files, error.errno)
    """)
    result = pool.run(ScriptRun(source=source), FAST)
    lines = result.stdout.split("\n")
    one_file_mb, too_large = map(int, lines[0].split())
    assert one_file_mb <= FAST.max_file_mb and too_large == 27  # EFBIG: RLIMIT_FSIZE
    if pool.isolation == "bwrap":  # the scratch tmpfs is full (ENOSPC) at scratch_mb
        files, no_space = map(int, lines[1].split())
        assert files * 4 <= pool.plan.options.scratch_mb and no_space == 28
    graded = grade(pool, "def f():\n" + textwrap.indent(source, "    ") + "    return None\n", check_tests(1))
    assert_contained(pool, graded, "failed", "timeout")


def test_files_outside_scratch_cannot_be_read(pool, tmp_path):
    requires(pool, "bwrap")
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    repo_file = Path(__file__).resolve()
    source = program(f"""
        def f():
            found = []
            for path in [{str(secret)!r}, {str(repo_file)!r}, "/etc/passwd", "/root/.bashrc"]:
                try:
                    with open(path) as handle:
                        found.append(handle.read())
                except OSError:
                    pass
            return found
    """)
    result = pool.run(ScriptRun(source=source + "print(f())\n"), FAST)
    assert result.stdout == "[]\n", result
    assert_contained(pool, grade(pool, source, check_tests(["s3cret"])), "failed")


def test_environment_secrets_do_not_leak(pool, monkeypatch):
    token = secrets.token_hex(8)
    monkeypatch.setenv("SRPO_TEST_SECRET", token)
    source = program("""
        import os
        def f():
            seen = repr(dict(os.environ))
            for path in ("/proc/1/environ", "/proc/self/environ", f"/proc/{os.getppid()}/environ"):
                try:
                    with open(path, "rb") as handle:
                        seen += handle.read().decode("utf-8", "replace")
                except OSError:
                    pass
            return seen
    """)
    result = pool.run(ScriptRun(source=source + "print(f())\n"), FAST)
    assert token not in result.stdout and "SRPO_TEST_SECRET" not in result.stdout
    graded = grade(pool, source, check_tests(True, call=f"{token!r} in candidate()"))
    assert_contained(pool, graded, "failed")


def test_loopback_listener_on_the_host_is_unreachable(pool):
    requires(pool, "bwrap", "unshare")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        source = program(f"""
            import socket
            def f():
                try:
                    with socket.create_connection(("127.0.0.1", {port}), timeout=1) as connection:
                        connection.sendall(b"leak")
                    return "connected"
                except OSError as error:
                    return type(error).__name__
        """)
        graded = grade(pool, source, check_tests("connected"))
        with pytest.raises(TimeoutError):
            listener.accept()
    assert_contained(pool, graded, "failed")


def test_files_outside_scratch_cannot_be_written(pool, tmp_path):
    requires(pool, "bwrap")
    os.chmod(tmp_path, 0o777)  # even a folder anyone may write to stays out of reach
    targets = [
        tmp_path / "pwned",
        Path(__file__).resolve().parent / "pwned",
        Path("/usr/pwned"),
        Path("/pwned"),
    ]
    source = program(f"""
        def f():
            wrote = []
            for path in {[str(t) for t in targets]!r}:
                try:
                    with open(path, "w") as handle:
                        handle.write("x")
                    wrote.append(path)
                except OSError:
                    pass
            with open("scratch-is-fine", "w") as handle:
                handle.write("x")
            return wrote
    """)
    graded = grade(pool, source, check_tests([str(t) for t in targets]))
    assert not any(target.exists() for target in targets)
    assert_contained(pool, graded, "failed")


def test_orphans_are_not_left_behind(pool):
    marker = f"srpo-orphan-{secrets.token_hex(4)}"
    source = program(f"""
        import os, sys
        def f():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{marker}"])
                os._exit(0)
            return 1
    """)
    graded = grade(pool, source, check_tests(2))
    assert graded.status == "failed"
    assert host_processes_with(marker) == []
    assert_contained(pool, graded, "failed")


def test_seccomp_refuses_system_v_shared_memory(pool):
    if not pool.plan.options.seccomp:
        pytest.skip("seccomp is off for this pool")
    source = program("""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print(libc.shmget(0, 1 << 20, 0o1600), ctypes.get_errno())
    """)
    result = pool.run(ScriptRun(source=source), FAST)
    assert result.stdout.split() == ["-1", "1"], result  # EPERM


def test_cpu_time_limit_backs_up_the_wall_clock(pool):
    started = time.monotonic()
    result = pool.run(
        ScriptRun(source="while True:\n    pass\n"), Limits(timeout_s=20.0, total_timeout_s=20.0, cpu_s=1)
    )
    assert result.outcome == "timeout" and result.signal in (9, 24)  # SIGXCPU, then SIGKILL
    assert time.monotonic() - started < 5.0
    assert_nothing_left(pool)


def test_programs_cannot_leave_files_for_the_next_program(pool):
    # Without bwrap, /dev/shm is the host's own (see the package docstring): only scratch is wiped,
    # and this test leaves nothing on the host.
    folders = [".", "/dev/shm"] if pool.isolation == "bwrap" else ["."]
    leave = program(f"""
        import os
        for folder in {folders!r}:
            with open(os.path.join(folder, "note-for-later"), "w") as handle:
                handle.write("answer: 42")
        for depth in range(2000):  # deeper than recursive clean-up code can go
            os.mkdir("d")
            os.chmod(".", 0o500) if depth % 400 == 3 else None
            os.chdir("d")
        print("left")
    """)
    look = f"import os\nprint(sorted(name for folder in {folders!r} for name in os.listdir(folder)))\n"
    with pool.lease() as sandbox:
        assert sandbox.run(ScriptRun(source=leave), FAST).stdout == "left\n"
        seen = sandbox.run(ScriptRun(source=look), FAST)
    assert seen.stdout == "[]\n", seen.stdout
