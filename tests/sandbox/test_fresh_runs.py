"""Every run starts from the same clean state, whatever the zygote does ahead of the fork to make
runs cheap: it compiles the program, makes its `__main__`, seeds `random` and changes into the
scratch folder itself, forks with the C library's fork(), and skips the builtins comparison
while the builtins' version tag has not moved. Each test here holds one of those to what a fresh
interpreter would do."""

from __future__ import annotations

import os
import textwrap

from srpo.sandbox import ScriptRun
from srpo.sandbox.inside import asserts, harness, integrity

from .conftest import FAST, assert_contained, check_tests, grade


def program(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def run_script(pool, source: str) -> str:
    with pool.lease() as sandbox:
        result = sandbox.run(ScriptRun(source=source), FAST)
    assert result.outcome == "exited" and result.exit_code == 0, result
    return result.stdout


def test_random_is_seeded_afresh_in_every_run_and_in_a_programs_own_fork(pool):
    draws = {run_script(pool, "import random\nprint(random.getrandbits(64))\n") for _ in range(6)}
    assert len(draws) == 6
    forked = program("""
        import os, random
        reader, writer = os.pipe()
        if os.fork() == 0:
            os.write(writer, str(random.getrandbits(64)).encode())
            os._exit(0)
        os.wait()
        print(os.read(reader, 100).decode() != str(random.getrandbits(64)))
    """)
    assert run_script(pool, forked) == "True\n"


def test_each_run_gets_its_own_main_module_and_the_scratch_folder_as_cwd(pool):
    leave = program("""
        import os, sys
        sys.modules["__main__"].left_behind = 1
        here = os.getcwd()
        open("note", "w").close()
        try:  # a folder of its own (not bwrap's tmpfs) can be moved away: the next run gets a new one
            os.rename(here, here + "-moved")
        except OSError:
            os.chmod(here, 0)  # else it locks its folder
        print(__name__)
    """)
    look = program("""
        import os, pickle, sys
        class Point:
            pass
        print(hasattr(sys.modules["__main__"], "left_behind"), os.listdir("."),
              type(pickle.loads(pickle.dumps(Point()))).__name__)
    """)
    with pool.lease() as sandbox:
        assert sandbox.run(ScriptRun(source=leave), FAST).stdout == "__main__\n"
        seen = sandbox.run(ScriptRun(source=look), FAST)
    assert seen.stdout == "False [] Point\n", seen


def test_programs_over_the_precompile_limit_are_compiled_in_the_child(pool):
    padding = "# padding\n" * (harness.PRECOMPILE_MAX_CHARS // 10 + 1)
    long_program = padding + "def f():\n    return 7\n"
    assert len(long_program) > harness.PRECOMPILE_MAX_CHARS
    assert grade(pool, long_program, check_tests(7)).status == "passed"
    broken = grade(pool, padding + "def f(:\n", check_tests(7))
    assert broken.status == "runtime_error" and "SyntaxError" in broken.failure.reason


def test_precompiled_syntax_errors_are_the_programs_error(pool):
    graded = grade(pool, "def f():\n    return (\n", check_tests(1))
    assert graded.status == "runtime_error" and "SyntaxError" in graded.failure.reason
    stdio = {"type": "stdio", "cases": [{"input": "", "output": "1\n"}]}
    graded = grade(pool, "print(1\n", stdio)
    assert graded.status == "runtime_error" and "SyntaxError" in graded.failure.reason


def test_precompile_hands_back_code_errors_or_nothing():
    assert harness.precompile("x = 1\n")[0].co_filename == integrity.PROGRAM_FILE
    assert isinstance(harness.precompile("x = " + "+".join(["1"] * 10000))[0], RecursionError)
    assert isinstance(harness.precompile("def f(:\n")[0], SyntaxError)
    assert harness.precompile("x = 1\n" * harness.PRECOMPILE_MAX_CHARS) == (None, [])
    code, caught = harness.precompile("x = 1\nprint(x is 1)\n")
    assert code is not None and [w.category for w in caught] == [SyntaxWarning]


def test_compile_warnings_reach_the_programs_stderr_not_the_sandboxes(pool):
    with pool.lease() as sandbox:
        result = sandbox.run(ScriptRun(source="x = 1\nprint(x is 1)\n"), FAST)
        assert result.stdout == "True\n"
        assert "SyntaxWarning" in result.stderr and "<program>:2" in result.stderr
        assert not any("SyntaxWarning" in line for line in sandbox._last_words())


def test_patching_a_builtin_the_tests_never_use_still_fails(pool):
    patched = grade(pool, "import builtins\nbuiltins.sorted = list\ndef f():\n    return 1\n", check_tests(1))
    assert "builtins.sorted" in patched.failure.reason
    assert_contained(pool, patched, "failed")
    removed = grade(pool, "import builtins\ndel builtins.zip\ndef f():\n    return 1\n", check_tests(1))
    assert "builtins.zip" in removed.failure.reason
    # Writing a builtin back as it was moves the version tag but changes nothing: still a pass.
    same = "import builtins\nkeep = builtins.len\ndel builtins.len\nbuiltins.len = keep\ndef f():\n    return 1\n"
    assert grade(pool, same, check_tests(1)).status == "passed"


def test_the_dict_version_reader_moves_on_every_change_only():
    version = integrity.dict_version_reader()
    assert version is not None  # CPython 3.11, as srpo's interpreter here
    table = {"a": 1}
    before = version(table)
    assert version(table) == before and table["a"] == 1
    table["a"] = 2
    assert version(table) != before


def test_an_empty_prelude_compiles_to_nothing():
    assert asserts.prepare("assert True\n", "", "").prelude is None
    assert asserts.prepare("assert True\n", "  \n", "").prelude is None
    with_prelude = asserts.prepare("assert helper()\n", "def helper():\n    return True\n", "")
    assert with_prelude.prelude is not None and "helper" in with_prelude.names


def test_the_zygote_forks_plainly_when_it_is_single_threaded(pool):
    run_script(pool, "pass\n")
    assert all(sandbox.hello.get("plain_fork") for sandbox in pool.sandboxes if sandbox.hello)


def test_annotations_are_evaluated_as_in_a_fresh_interpreter(pool):
    # The harness's own `from __future__ import annotations` must not reach what it compiles.
    annotated = "def f(x: int) -> list:\n    return [x]\nprint(f.__annotations__)\n"
    fresh = "{'x': <class 'int'>, 'return': <class 'list'>}\n"
    padding = "# padding\n" * (harness.PRECOMPILE_MAX_CHARS // 10 + 1)  # compiled in the child
    assert run_script(pool, annotated) == run_script(pool, annotated + padding) == fresh
    postponed = "from __future__ import annotations\n" + annotated  # a program's own choice holds
    assert run_script(pool, postponed) == "{'x': 'int', 'return': 'list'}\n"
    tests = {
        "type": "assert",
        "code": "def check(candidate):\n    def g(y: int): pass\n    assert g.__annotations__ == {'y': int}\n"
        "    assert helper.__annotations__ == {'z': str}\n    assert candidate() == 1\n",
        "prelude": "def helper(z: str): pass\n",
        "entry_point": "f",
    }
    assert grade(pool, "def f() -> int:\n    return 1\n", tests).status == "passed"


def test_a_program_starts_in_its_own_session_with_only_its_own_descriptors_and_limits(pool):
    # What the child's start calls (`harness.start_calls`, made in the zygote) must leave it with.
    look = program("""
        import os, resource, signal
        def is_open(fd):
            try:
                os.fstat(fd)
                return True
            except OSError:
                return False
        print([fd for fd in range(4096) if is_open(fd)])
        print(os.getsid(0) == os.getpid(), signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        print([resource.getrlimit(which) for which in (resource.RLIMIT_AS, resource.RLIMIT_NOFILE,
                                                       resource.RLIMIT_FSIZE, resource.RLIMIT_CORE)])
    """)
    mib = 1 << 20
    limits = [
        (FAST.memory_mb * mib,) * 2,
        (FAST.max_open_files,) * 2,
        (FAST.max_file_mb * mib,) * 2,
        (0, 0),
    ]
    assert run_script(pool, look) == f"[0, 1, 2, 3]\nTrue True\n{limits}\n"
    assert run_script(pool, look) == f"[0, 1, 2, 3]\nTrue True\n{limits}\n"  # the cached start calls


def test_start_calls_move_pipe_ends_out_of_the_way_when_they_sit_where_the_childs_own_go():
    # Only a zygote made in another process has pipes on fds 0 to 3 (`zygote.main` keeps them
    # taken): here the stderr end sits on fd 1, which the stdout end is about to overwrite.
    pipes = [os.pipe() for _ in range(4)]
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child's coverage is not collected)
        try:
            os.dup2(pipes[2][1], 1)
            ends = (pipes[0][0], pipes[1][1], 1, pipes[3][1])
            harness.run_calls(harness.start_calls(ends, ()))
            for fd, text in ((1, b"out"), (2, b"err"), (3, b"report")):
                os.write(fd, text)
            os.write(3, b" " + repr(os.read(0, 5)).encode())
        finally:
            os._exit(0)
    os.write(pipes[0][1], b"input")
    for end in (pipes[0][0], pipes[0][1], pipes[1][1], pipes[2][1], pipes[3][1]):
        os.close(end)
    os.waitpid(pid, 0)
    got = [os.read(pipes[number][0], 100) for number in (1, 2, 3)]
    assert got == [b"out", b"err", b"report b'input'"]
