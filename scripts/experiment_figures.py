"""The experiment's figures, as PNG files next to its runs (matplotlib, no display needed).

- `accuracy.png`: held-out math and code accuracy against rollouts generated, one colour per
  arm, a thin line per seed and a thick one for their mean;
- `training.png`: per arm, the training reward (share of correct answers) and the mean response
  length per domain against rollouts generated, the stage switch marked.

Reads only the arms' summaries (`summary.json`, made from the catalog by scripts/experiment.py).
Each run's own curves, from its catalog rows and metrics, are drawn by `srpo-curate report`
(scripts/experiment.py calls it per arm); these put the arms side by side, which it does not.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

COLOURS = {"uniform": "tab:blue", "dynamic": "tab:orange", "history": "tab:green"}


def draw_figures(
    root: Path, summaries: list[dict[str, Any]], *, base_accuracy: dict[str, float]
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    return [_accuracy(root, summaries, base_accuracy), _training(root, summaries)]


def _accuracy(root: Path, summaries: list[dict[str, Any]], base_accuracy: dict[str, float]) -> Path:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for axis, domain in zip(axes, ("math", "code"), strict=True):
        by_arm: dict[str, list[list[dict]]] = defaultdict(list)
        for summary in summaries:
            by_arm[summary["arm"]].append(summary["points"])
        for arm, runs in by_arm.items():
            for points in runs:
                axis.plot([p["generated"] for p in points], [p[domain] for p in points],
                          color=COLOURS.get(arm), alpha=0.3, linewidth=1)  # fmt: skip
            mean = _mean_curve(runs, domain)
            axis.plot(
                *mean, color=COLOURS.get(arm), linewidth=2.5, marker="o", label=f"{arm} ({len(runs)} seeds)"
            )
        axis.axhline(base_accuracy[domain], color="grey", linestyle=":", label="base policy")
        axis.set_title(f"held-out {domain} accuracy (sampled pass@1)")
        axis.set_xlabel("rollouts generated")
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    figure.tight_layout()
    path = root / "accuracy.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _mean_curve(runs: list[list[dict]], domain: str) -> tuple[list[float], list[float]]:
    """Point-wise mean over seeds (the runs stop at the same budgets; dynamic sampling may
    stop a little short, so the x positions are averaged too)."""
    count = min(len(points) for points in runs)
    xs = [sum(points[i]["generated"] for points in runs) / len(runs) for i in range(count)]
    ys = [sum(points[i][domain] for points in runs) / len(runs) for i in range(count)]
    return xs, ys


def _training(root: Path, summaries: list[dict[str, Any]]) -> Path:
    import matplotlib.pyplot as plt

    arms = list(dict.fromkeys(s["arm"] for s in summaries))
    figure, axes = plt.subplots(2, len(arms), figsize=(4.5 * len(arms), 7), squeeze=False, sharex=True)
    for column, arm in enumerate(arms):
        for summary in (s for s in summaries if s["arm"] == arm):
            first = summary["seed"] == min(s["seed"] for s in summaries if s["arm"] == arm)
            for row, key in enumerate(("reward", "length")):
                _domain_lines(axes[row][column], summary, key, labelled=first)
        axes[0][column].set_title(f"{arm}: training reward")
        axes[1][column].set_title(f"{arm}: response length (tokens)")
        axes[1][column].set_xlabel("rollouts generated")
        axes[0][column].set_ylim(0, 1)
        axes[0][column].legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    path = root / "training.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _domain_lines(axis: Any, summary: dict[str, Any], key: str, *, labelled: bool) -> None:
    """One line per domain against the cumulative rollouts at each step; the switch dashed."""
    generated, total, switch_at = {}, 0, None
    for step in sorted({row["step"] for row in summary["steps"]}):
        total += sum(row["rollouts"] for row in summary["steps"] if row["step"] == step)
        generated[step] = total
        if summary.get("switch") is not None and step == summary["switch"]:
            switch_at = total
    for domain, style in (("math", "-"), ("code", "--")):
        rows = [row for row in summary["steps"] if row["domain"] == domain]
        axis.plot([generated[row["step"]] for row in rows], [row[key] for row in rows], style,
                  color="tab:purple" if domain == "code" else "tab:red", alpha=0.6, linewidth=1, marker=".",
                  label=domain if labelled else None)  # fmt: skip
    if switch_at is not None:
        axis.axvline(switch_at, color="grey", linestyle=":", linewidth=1)
    axis.grid(alpha=0.3)
