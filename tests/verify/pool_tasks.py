"""Task functions for the worker-pool tests; module level so worker processes can import them."""

from __future__ import annotations

import os


def square(value: int) -> int:
    return value * value


def hang_on(value: str) -> str:
    """Spins forever (a pure-Python loop no signal-free timeout could stop) on "hang"."""
    if value == "hang":
        while True:
            pass
    return value.upper()


def die_on(value: str) -> str:
    if value == "die":
        os._exit(3)
    return value.upper()


def raise_on(value: str) -> str:
    if value == "raise":
        raise ValueError("bad item")
    return value.upper()


def eat_memory(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)
