"""Helpers shared by the benchmarks: locating ../shared/data, printing figures, and comparing srpo
with a peer tool in alternating rounds (`compare`), so that the `ratio NAME:` line holds on a
shared machine."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# ------------------------------------------------------------------------- side-by-side ratios


@dataclass(frozen=True, slots=True)
class Side:
    """One contender: `run()` does one pass of the work and returns its throughput (higher is
    better, e.g. items/s) or, with `lower_is_better`, its cost (e.g. seconds per step)."""

    name: str
    run: Callable[[], float]
    passes: int = 1
    """Passes per round. Give the faster side several, so that both sides' shares of a round last
    about as long: a side that runs for a few seconds against the other's minute is measured in a
    window where one burst of load decides its figure alone."""

    def round(self, *, lower_is_better: bool) -> float:
        """One round: the side's figure over `passes` equal passes (total work over total time)."""
        values = [self.run() for _ in range(self.passes)]
        if lower_is_better:
            return statistics.fmean(values)
        return statistics.harmonic_mean(values)


@dataclass(frozen=True, slots=True)
class Comparison:
    ours: list[float]
    peer: list[float]
    ratios: list[float]
    """Per round: ours over peer for throughputs, peer over ours for costs (higher: srpo better)."""

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def compare(
    name: str,
    ours: Side,
    peer: Side,
    *,
    rounds: int = 5,
    warmup: int = 1,
    unit: str = "",
    lower_is_better: bool = False,
    details: Callable[[], None] | None = None,
) -> Comparison:
    """Run the two sides in alternating rounds (warm-up rounds first, not counted), A B, B A, A B,
    ... so a burst of load on the machine lands on both sides rather than on one, and print each
    side's median and range, the per-round ratios and, last, `ratio NAME: <median of the
    per-round ratios>` with their spread. The order within a round alternates too, so neither
    side always runs second (warmer caches, a hotter CPU). The machine's load average is printed
    before and after: on a shared machine it says how much to trust the figures. `details`, if
    given, prints the bench's own figures after the rounds, before the ratio line."""
    if rounds < 1 or warmup < 0:
        raise ValueError(f"need rounds >= 1 and warmup >= 0, got rounds={rounds}, warmup={warmup}")
    if min(ours.passes, peer.passes) < 1:
        raise ValueError("each side needs at least one pass per round")
    if ours.name == peer.name:
        raise ValueError(f"the two sides need different names, both are {ours.name!r}")
    report("load before", _load())
    for _ in range(warmup):
        ours.round(lower_is_better=lower_is_better)
        peer.round(lower_is_better=lower_is_better)
    mine: list[float] = []
    theirs: list[float] = []
    for index in range(rounds):
        order = (ours, peer) if index % 2 == 0 else (peer, ours)
        values = {side.name: side.round(lower_is_better=lower_is_better) for side in order}
        mine.append(values[ours.name])
        theirs.append(values[peer.name])
    ratios = [(p / o if lower_is_better else o / p) for o, p in zip(mine, theirs, strict=True)]
    result = Comparison(mine, theirs, ratios)
    for side, values in ((ours, mine), (peer, theirs)):
        report(f"{side.name} median", statistics.median(values), unit)
        report(f"{side.name} range", f"{min(values):.4g} to {max(values):.4g}", unit)
    passes = f" ({ours.name} {ours.passes} passes, {peer.name} {peer.passes} per round)"
    report("rounds", f"{rounds} alternating, after {warmup} warm-up{passes}")
    report("per-round ratios", ", ".join(f"{r:.3g}" for r in ratios))
    report("load after", _load())
    if details is not None:
        details()
    spread = (max(ratios) - min(ratios)) / result.ratio if result.ratio else float("nan")
    print(f"ratio {name}: {result.ratio:.3g} (per-round spread {100 * spread:.0f}%)", flush=True)
    return result


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cpus"


def rounds_argument(parser: Any, *, default: int = 5) -> None:
    """`--rounds N` (measured rounds) and `--warmup N` for a ratio bench."""
    parser.add_argument(
        "--rounds", type=int, default=default, help=f"alternating measured rounds (default {default})"
    )
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first")
