"""The memory ceiling across all sandboxes of a pool (`srpo.sandbox.cgroups`): where a cgroup v2
subtree is delegated, sandboxes together cannot pass it; elsewhere `doctor` says each sandbox is
capped on its own. Finding and arming the delegation is checked on cgroup trees built in the test
(plain folders standing in for cgroupfs); the ceiling itself where this machine delegates one."""

from __future__ import annotations

import os
import textwrap
import threading
from pathlib import Path

import pytest

from srpo.sandbox import Limits, SandboxOptions, SandboxPool, ScriptRun, cgroups
from tests.helpers import run_cli

MOUNTINFO = (
    "25 20 0:22 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
    "30 20 0:27 {root} {point} rw,relatime shared:14 - cgroup2 cgroup2 rw\n"
)


def fake_proc(tmp_path: Path, own: str | None, *, root: str = "/", point: str = "/sys/fs/cgroup") -> str:
    proc = tmp_path / "proc"
    proc.mkdir()
    lines = ["4:memory:/some/where"] + ([f"0::{own}"] if own is not None else [])
    (proc / "cgroup").write_text("\n".join(lines) + "\n")
    (proc / "mountinfo").write_text(MOUNTINFO.format(root=root, point=point))
    return str(proc)


def fake_cgroup(folder: Path, *, controllers: str, procs: list[int], enabled: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "cgroup.controllers").write_text(controllers + "\n")
    (folder / "cgroup.subtree_control").write_text(enabled + "\n")
    (folder / "cgroup.procs").write_text("".join(f"{pid}\n" for pid in procs))
    return folder


def test_this_process_cgroup_v2_folder_is_found_from_proc(tmp_path):
    proc = fake_proc(tmp_path, "/user.slice/srpo.scope", point="/sys/fs/cgroup/unified")
    assert cgroups.cgroup2_folder(proc) == ("/sys/fs/cgroup/unified/user.slice/srpo.scope", "")


def test_a_container_mount_of_a_subtree_is_followed(tmp_path):
    proc = fake_proc(tmp_path, "/docker/abc/job", root="/docker/abc")
    assert cgroups.cgroup2_folder(proc) == ("/sys/fs/cgroup/job", "")


def test_cgroup_v1_only_gives_no_ceiling(tmp_path):
    folder, why = cgroups.cgroup2_folder(fake_proc(tmp_path, None))
    assert folder is None and "cgroup v1 only" in why


def test_no_memory_controller_means_per_sandbox_only(tmp_path):
    folder = fake_cgroup(tmp_path / "cg", controllers="cpu pids", procs=[os.getpid()])
    found = cgroups.delegation(str(folder))
    assert found.folder is None and "offers no memory controller (controllers: cpu pids)" in found.reason


def test_a_cgroup_shared_with_other_processes_is_left_alone(tmp_path):
    folder = fake_cgroup(tmp_path / "cg", controllers="cpu memory pids", procs=[os.getpid(), 1])
    found = cgroups.delegation(str(folder))
    assert found.folder is None and "holds processes other than srpo's" in found.reason


def test_a_delegated_cgroup_gets_a_leaf_for_srpo_and_a_ceiling_per_pool(tmp_path):
    folder = fake_cgroup(tmp_path / "cg", controllers="cpu memory pids", procs=[os.getpid()])
    found = cgroups.delegation(str(folder))
    assert found.folder == str(folder)
    ceiling, said = cgroups.PoolCeiling.create(300 << 20, found)
    assert ceiling is not None and said.startswith("300 MiB for all sandboxes")
    # srpo moved itself into a leaf, then enabled the memory controller below the cgroup.
    assert (folder / "srpo-main" / "cgroup.procs").read_text() == str(os.getpid())
    assert (folder / "cgroup.subtree_control").read_text() == "+memory"
    pool = Path(ceiling.folder)
    assert pool.parent == folder and (pool / "memory.max").read_text() == str(300 << 20)
    assert (pool / "memory.swap.max").read_text() == "0"
    leaf = Path(ceiling.leaf(0))
    (leaf / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    assert cgroups.PoolCeiling.oom_kills(str(leaf)) == 2


def test_doctor_says_where_memory_is_capped():
    result = run_cli("doctor")
    found = cgroups.delegation()
    if found.folder is None:
        assert f"memory ceiling: per sandbox only ({found.reason})" in result.stdout
    else:
        assert "memory ceiling: all sandboxes of a pool together" in result.stdout


HOG = textwrap.dedent("""
    import time
    hog = []
    for _ in range(14):
        hog.append(bytearray(16 << 20))
    time.sleep(3)
    print("held", len(hog) * 16, "MiB")
""")


def test_sandboxes_together_cannot_pass_the_pool_ceiling():
    found = cgroups.delegation()
    if found.folder is None:
        pytest.skip(f"no memory ceiling across sandboxes here: {found.reason}")
    # Each run stays under its own limit (224 of 400 MiB); two at once pass the pool's 300 MiB.
    limits = Limits(timeout_s=20.0, total_timeout_s=20.0, memory_mb=400)
    with SandboxPool(2, SandboxOptions(total_memory_mb=300)) as pool:
        assert pool.ceiling is not None, pool.memory_ceiling
        results = []
        runs = [threading.Thread(target=lambda: results.append(pool.run(ScriptRun(source=HOG), limits)))
                for _ in range(2)]  # fmt: skip
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        assert sorted(r.outcome for r in results)[0] == "memory", results
        alone = pool.run(ScriptRun(source=HOG), limits)  # one alone fits
        assert alone.outcome == "exited" and alone.stdout == "held 224 MiB\n", alone
