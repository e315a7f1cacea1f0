"""What a step samples and which of it it trains on: one batch, or DAPO's dynamic sampling.

With `data.sampling` `history` or `uniform` a step samples one group per problem of its batch
and trains on all of them. With `dynamic` (DAPO, Yu et al. 2025) a group whose answers are all
right or all wrong is left out of the update (its advantages are all zero: it only dilutes the
batch); the step then samples the epoch's next problems, as many as it still lacks, and again,
until it holds `data.prompts_per_step` informative groups, for at most
`data.dynamic_max_rounds` rounds, never past `budget.max_rollouts`, never past the epoch's
last problem. A step that runs out trains on the groups it kept (none: no update).

Every group generated is returned, with a flag per rollout saying whether it is trained on, so
the catalog records the filtered ones too and the metrics count what each mode cost.

On several ranks each round's problems are shared out as a step's are; the decision to sample
again uses the kept groups summed over ranks, so every rank takes the same rounds.

Covers: the rounds, the filter, the counts. Does not cover: sampling itself (`rollouts`), the
epoch's problems (`trainer`), the update (`step`, `update`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from srpo.train import distributed
from srpo.train.rollouts import SamplingTimes

if TYPE_CHECKING:
    from srpo.train.resampling import ProblemText
    from srpo.train.rollouts import Rollout, RolloutBatch

# sample(this rank's problems, round) -> their graded groups; more(count) -> the epoch's next
# problems (all ranks' share, at most count; fewer or none at the epoch's end).
SampleFn = Callable[[Sequence["ProblemText"], int], "RolloutBatch"]
MoreFn = Callable[[int], list["ProblemText"]]


@dataclass(slots=True)
class Drawn:
    """A step's rollouts on this rank, group after group, and which of them it trains on."""

    rollouts: list[Rollout] = field(default_factory=list)
    trained: list[bool] = field(default_factory=list)
    """One flag per rollout."""
    times: SamplingTimes = field(default_factory=SamplingTimes)
    rounds: int = 0
    """Generation rounds the step took (1 unless dynamic sampling sampled more)."""
    generated: int = 0
    """Rollouts generated in the step, over all ranks."""
    trained_total: int = 0
    """Rollouts trained on in the step, over all ranks."""

    @property
    def kept(self) -> list[Rollout]:
        """The rollouts trained on, group after group."""
        return [r for r, keep in zip(self.rollouts, self.trained, strict=True) if keep]

    def counts(self, *, generated_total: int, trained_total: int) -> dict[str, int]:
        """The step's metrics `rollouts/generated`, `rollouts/trained` (this step, all ranks),
        their running totals `rollouts/generated_total`, `rollouts/trained_total`, and
        `rollouts/rounds`."""
        return {
            "rollouts/generated": self.generated,
            "rollouts/trained": self.trained_total,
            "rollouts/generated_total": generated_total,
            "rollouts/trained_total": trained_total,
            "rollouts/rounds": self.rounds,
        }

    def add(self, batch: RolloutBatch, flags: Sequence[bool]) -> None:
        self.rollouts.extend(batch.rollouts)
        self.trained.extend(flags)
        self.times.generate_s += batch.times.generate_s
        self.times.grade_s += batch.times.grade_s
        self.times.grade_wait_s += batch.times.grade_wait_s
        self.rounds += 1


def groups(rollouts: Sequence[Rollout], size: int) -> list[Sequence[Rollout]]:
    """Consecutive groups of `size` (a problem's samples lie together)."""
    return [rollouts[i : i + size] for i in range(0, len(rollouts), size)]


def informative(group: Sequence[Rollout]) -> bool:
    """Some answers right and some wrong (DAPO keeps 0 < correct < G)."""
    correct = sum(r.status == "correct" for r in group)
    return 0 < correct < len(group)


def draw_all(sample: SampleFn, problems: Sequence[ProblemText]) -> Drawn:
    """One batch, every group trained on (`history`, `uniform`)."""
    drawn = Drawn()
    batch = sample(problems[distributed.rank() :: distributed.world_size()], 0)
    drawn.add(batch, [True] * len(batch.rollouts))
    total = int(distributed.all_sum([float(len(batch.rollouts))])[0])
    drawn.generated = drawn.trained_total = total
    return drawn


def draw_dynamic(
    sample: SampleFn,
    problems: Sequence[ProblemText],
    *,
    more: MoreFn,
    wanted: int,
    group_size: int,
    max_rounds: int,
    budget_left: int | None = None,
) -> Drawn:
    """Sample `problems`, then the epoch's next ones, until `wanted` informative groups are
    kept over all ranks, `max_rounds` rounds are done, `budget_left` rollouts (over all ranks)
    cannot pay for another group, or the epoch has no problem left."""
    drawn = Drawn()
    kept_groups = 0
    rank, world = distributed.rank(), distributed.world_size()
    while True:
        batch = sample(problems[rank::world], drawn.rounds)
        flags: list[bool] = []
        kept_here = 0
        for group in groups(batch.rollouts, group_size):
            keep = informative(group)
            flags += [keep] * len(group)
            kept_here += keep
        drawn.add(batch, flags)
        summed = distributed.all_sum([float(kept_here), float(len(batch.rollouts)), float(sum(flags))])
        kept_groups += int(summed[0])
        drawn.generated += int(summed[1])
        drawn.trained_total += int(summed[2])
        need = wanted - kept_groups
        if budget_left is not None:
            need = min(need, (budget_left - drawn.generated) // group_size)
        if need <= 0 or drawn.rounds >= max_rounds:
            return drawn
        problems = more(need)
        if not problems:
            return drawn
