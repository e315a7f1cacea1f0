"""Helpers shared by the benchmarks: locating ../shared/data and printing figures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

SHARED_DATA = Path(
    os.environ.get("SRPO_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
).resolve()


def shared_data_or_exit() -> Path:
    if not SHARED_DATA.is_dir():
        print(f"skipped: shared datasets not found at {SHARED_DATA} (set SRPO_SHARED_DATA)")
        sys.exit(0)
    return SHARED_DATA


def report(key: str, value: float | int | str, unit: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{key}: {text}{(' ' + unit) if unit else ''}", flush=True)


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
