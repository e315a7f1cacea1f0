"""`srpo-curate ingest --difficulty-from-source RULE`: turn a dataset's own difficulty into srpo's.

Adapters keep a dataset's difficulty or pass-rate field as `metadata.source_difficulty` (a
number). Its meaning differs by dataset, so the user says how to read it:

- `scale:LOW,HIGH`: a difficulty scale where higher is harder (DeepScaleR's 1-10 estimates):
  below LOW is easy, HIGH and above is hard, in between medium.
- `pass-rate` or `pass-rate:HARD,EASY`: a pass rate in [0, 1] measured by some model: below
  HARD (default 0.2) is hard, EASY (default 0.8) and above is easy, as in `difficulty`.

Only problems without a difficulty are set (a measured one is never overwritten), and
`pass_rate` stays empty, so a difficulty taken from the source is told apart from one measured
by `srpo-curate difficulty` (which sets both).

Covers: parsing the rule. Does not cover: the update itself (`srpo.catalog.ratings`).
"""

from __future__ import annotations

from dataclasses import dataclass

from srpo.errors import InputError

_USAGE = "expected scale:LOW,HIGH, pass-rate or pass-rate:HARD,EASY"


@dataclass(frozen=True, kw_only=True)
class SourceDifficultyRule:
    """Two boundaries on `metadata.source_difficulty` and what lies below and above them."""

    low: float
    """Values below this get `below_low`."""
    high: float
    """Values at or above this get `from_high`; values in [low, high) are medium."""
    below_low: str
    """`easy` for a difficulty scale, `hard` for a pass rate."""
    from_high: str
    """`hard` for a difficulty scale, `easy` for a pass rate."""
    spec: str
    """The rule as the user wrote it."""


def parse_rule(spec: str) -> SourceDifficultyRule:
    kind, _, bounds = spec.strip().partition(":")
    if kind not in ("scale", "pass-rate") or (kind == "scale" and not bounds):
        raise InputError(f"--difficulty-from-source {spec!r}: {_USAGE}")
    low, high = (0.2, 0.8) if not bounds else _two_numbers(spec, bounds)
    if low > high:
        raise InputError(f"--difficulty-from-source {spec!r}: the first bound must not exceed the second")
    if kind == "pass-rate":
        if not 0 <= low <= high <= 1:
            raise InputError(f"--difficulty-from-source {spec!r}: pass-rate bounds must lie in [0, 1]")
        return SourceDifficultyRule(low=low, high=high, below_low="hard", from_high="easy", spec=spec)
    return SourceDifficultyRule(low=low, high=high, below_low="easy", from_high="hard", spec=spec)


def _two_numbers(spec: str, bounds: str) -> tuple[float, float]:
    parts = bounds.split(",")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise InputError(f"--difficulty-from-source {spec!r}: {_USAGE}") from None
    return low, high
