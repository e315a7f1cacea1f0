"""What the miniature SRPO experiment reports: one `result` line per arm, and their spread.

A line reads `result ARM: accuracy_before=0.412 accuracy_after=0.655 code_accuracy_after=0.700
rollouts_generated=3840 rollouts_trained=3840 zero_std_share=0.213 seconds=140.2`; with several
seeds each value is the mean over seeds, and a `spread ARM:` line gives the standard deviations.
`parse_result_lines` reads them back (for the README table, for tests, for anyone's script).

Covers: the record, formatting, parsing, the mean and spread over seeds. Does not cover:
running the experiment (scripts/experiment.py).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields

ARMS = ("uniform", "dynamic", "history")
_LINE = re.compile(r"^(result|spread) ([a-z_]+): (.*)$")


@dataclass(frozen=True, slots=True)
class ArmResult:
    """One arm (and seed) of the experiment."""

    accuracy_before: float
    """Held-out math accuracy of the base policy (sampled pass@1, see the README)."""
    accuracy_after: float
    """Held-out math accuracy after RL."""
    code_accuracy_after: float
    """Held-out code accuracy after RL (programs run in srpo's sandbox)."""
    rollouts_generated: float
    """Rollouts the run generated, trained on or not."""
    rollouts_trained: float
    """Rollouts it trained on."""
    zero_std_share: float
    """Share of the groups it generated whose rewards were all equal (no gradient)."""
    seconds: float
    """Wall time of the arm: training and its evaluations."""

    def line(self, arm: str, *, kind: str = "result") -> str:
        values = " ".join(f"{name}={_number(value)}" for name, value in asdict(self).items())
        return f"{kind} {arm}: {values}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) >= 1 else f"{value:.3f}"


def parse_result_lines(text: str, *, kind: str = "result") -> dict[str, ArmResult]:
    """The `result` (or `spread`) lines of a run's output, by arm; other lines are ignored. A
    line missing a key, or with a value that is not a number, is an error naming the key."""
    names = [f.name for f in fields(ArmResult)]
    found: dict[str, ArmResult] = {}
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if not match or match.group(1) != kind:
            continue
        pairs = dict(part.split("=", 1) for part in match.group(3).split() if "=" in part)
        missing = [name for name in names if name not in pairs]
        if missing:
            raise ValueError(f"{kind} {match.group(2)}: no {missing[0]}= in {line.strip()!r}")
        try:
            found[match.group(2)] = ArmResult(**{name: float(pairs[name]) for name in names})
        except ValueError as error:
            raise ValueError(f"{kind} {match.group(2)}: {error}") from error
    return found


def mean_and_spread(results: Sequence[ArmResult]) -> tuple[ArmResult, ArmResult]:
    """The mean over seeds and the standard deviation (0 with one seed)."""
    names = [f.name for f in fields(ArmResult)]
    columns = {name: [getattr(r, name) for r in results] for name in names}
    mean = ArmResult(**{name: statistics.fmean(values) for name, values in columns.items()})
    spread = ArmResult(
        **{name: statistics.stdev(values) if len(values) > 1 else 0.0 for name, values in columns.items()}
    )
    return mean, spread


def result_lines(by_arm: dict[str, Sequence[ArmResult]], arms: Iterable[str] = ARMS) -> list[str]:
    """`result` lines (means over seeds), then `spread` lines when there are several seeds."""
    lines, spreads = [], []
    for arm in arms:
        if not by_arm.get(arm):
            continue
        mean, spread = mean_and_spread(by_arm[arm])
        lines.append(mean.line(arm))
        if len(by_arm[arm]) > 1:
            spreads.append(spread.line(arm, kind="spread"))
    return lines + spreads
