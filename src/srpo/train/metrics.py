"""Per-step metrics: always OUTPUT/metrics.jsonl, TensorBoard or Weights & Biases when asked.

`rollout_metrics` turns a step's graded rollouts into the reward, accuracy and length numbers
(per domain; `frac_reward_zero_std`: the share of groups whose rewards are all equal, which
give no gradient). Accuracy is the share of responses the grader marked `correct`, so unlike
the reward it never includes the format bonus; it and the per-domain and correct/wrong
lengths are present on every step (null when no response of that kind was sampled), so runs
compare key by key. `MetricsLog` writes one JSON object per step on rank 0; TensorBoard and wandb are
imported only when enabled. On resume, lines of steps after the checkpoint are removed, so the
file holds each step once.

Covers: computing and writing metrics. Does not cover: the loss statistics (`update`).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.errors import MissingDependencyError

if TYPE_CHECKING:
    from srpo.train.config import LoggingConfig
    from srpo.train.rollouts import Rollout


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return statistics.fmean(values), statistics.pstdev(values)


@dataclass(frozen=True, slots=True)
class Scored:
    """What the metrics need of one rollout (small enough to gather from every rank)."""

    domain: str
    reward: float
    status: str
    tokens: int
    truncated: bool

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    @classmethod
    def of(cls, rollout: Rollout) -> Scored:
        return cls(
            rollout.domain, rollout.reward, rollout.status, len(rollout.response_ids), rollout.truncated
        )


def rollout_metrics(rollouts: Sequence[Scored], group_size: int) -> dict[str, float | None]:
    """Reward mean/std (overall and per domain), zero-std groups, response lengths, accuracy;
    `rollouts` lie group after group."""
    rewards = [r.reward for r in rollouts]
    metrics: dict[str, float | None] = {}
    metrics["reward/mean"], metrics["reward/std"] = _mean_std(rewards)
    for domain in sorted({r.domain for r in rollouts}):
        own = [r.reward for r in rollouts if r.domain == domain]
        metrics[f"reward/{domain}/mean"], metrics[f"reward/{domain}/std"] = _mean_std(own)
    starts = range(0, len(rollouts), group_size)
    groups = [rewards[i : i + group_size] for i in starts]
    metrics["frac_reward_zero_std"] = sum(1 for g in groups if max(g) == min(g)) / max(1, len(groups))
    solved = [all(r.status == "correct" for r in rollouts[i : i + group_size]) for i in starts]
    metrics["frac_solved_groups"] = sum(solved) / max(1, len(groups))
    lengths = [r.tokens for r in rollouts]
    metrics["response_length/mean"] = statistics.fmean(lengths) if lengths else 0.0
    metrics["response_length/max"] = float(max(lengths, default=0))
    metrics["response_length/clipped_ratio"] = sum(r.truncated for r in rollouts) / max(1, len(rollouts))
    return metrics | accuracy_metrics(rollouts)


DOMAINS = ("math", "code")


def _mean_or_none(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def accuracy_metrics(rollouts: Sequence[Scored]) -> dict[str, float | None]:
    """accuracy/mean and per domain; response length per domain and for correct and wrong
    (every response not graded correct) responses. None where no response is of that kind."""
    metrics: dict[str, float | None] = {"accuracy/mean": _mean_or_none([float(r.correct) for r in rollouts])}
    for domain in sorted(set(DOMAINS) | {r.domain for r in rollouts}):
        own = [r for r in rollouts if r.domain == domain]
        metrics[f"accuracy/{domain}"] = _mean_or_none([float(r.correct) for r in own])
        metrics[f"response_length/{domain}/mean"] = _mean_or_none([r.tokens for r in own])
    metrics["response_length/correct/mean"] = _mean_or_none([r.tokens for r in rollouts if r.correct])
    metrics["response_length/wrong/mean"] = _mean_or_none([r.tokens for r in rollouts if not r.correct])
    return metrics


class MetricsLog:
    """Writes metrics on rank 0 (on other ranks every call does nothing)."""

    def __init__(
        self,
        directory: Path,
        config: LoggingConfig,
        *,
        run_id: str,
        enabled: bool,
        run_config: dict[str, Any] | None = None,
    ) -> None:
        self.path = directory / "metrics.jsonl"
        self.enabled = enabled
        self._tensorboard = None
        self._wandb = None
        if not enabled:
            return
        directory.mkdir(parents=True, exist_ok=True)
        if config.tensorboard:
            self._tensorboard = _tensorboard_writer(directory / "tensorboard")
        if config.wandb_project:
            self._wandb = _wandb_run(config.wandb_project, run_id, run_config or {})

    def truncate_after(self, step: int) -> None:
        """Forget lines of steps after `step` (resuming from a checkpoint taken at `step`)."""
        if not self.enabled or not self.path.exists():
            return
        kept = [line for line in self.path.read_text().splitlines() if json.loads(line)["step"] <= step]
        self.path.write_text("".join(line + "\n" for line in kept))

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, **metrics}) + "\n")  # step first, for readers
        numbers = {k: v for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        if self._tensorboard is not None:
            for key, value in numbers.items():
                self._tensorboard.add_scalar(key, value, step)
            self._tensorboard.flush()
        if self._wandb is not None:
            self._wandb.log(numbers, step=step)

    def close(self) -> None:
        if self._tensorboard is not None:
            self._tensorboard.close()
        if self._wandb is not None:
            self._wandb.finish()


def _tensorboard_writer(directory: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise MissingDependencyError(
            f"logging.tensorboard needs the tensorboard package (pip install tensorboard): {error}"
        ) from error
    return SummaryWriter(log_dir=str(directory))


def _wandb_run(project: str, run_id: str, config: dict[str, Any]) -> Any:
    try:
        import wandb
    except ImportError as error:
        raise MissingDependencyError(
            f"logging.wandb_project needs the wandb package (pip install wandb): {error}"
        ) from error
    return wandb.init(project=project, name=run_id, id=run_id, resume="allow", config=config)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The lines of a metrics.jsonl file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
