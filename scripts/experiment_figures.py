"""The experiment's figure of the arms side by side: held-out accuracy against rollouts generated.

`accuracy.png`, one panel per domain (math, code), one colour per arm: the mean over seeds as a
solid line, each seed dashed, the base policy's accuracy as a flat line. Drawn with the report's
own chart helpers (`srpo.report.figures`, Altair) and rendered to PNG with vl-convert, as
`srpo-curate report --format png` does.

Each run's training curves (reward, accuracy and length per domain across the stage switch,
groups with identical rewards, resampling per epoch) are drawn by `srpo-curate report`, which
scripts/experiment.py calls per arm; this module draws only what the report cannot: arms that
live in separate catalogs, compared on the held-out sets.

Reads only the arms' summaries (`summary.json`, made from the catalog by scripts/experiment.py).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

BASE = "base policy"
MEAN = "mean over seeds"


def draw_figures(
    root: Path, summaries: list[dict[str, Any]], *, base_accuracy: dict[str, float]
) -> list[Path]:
    from srpo.report import deps
    from srpo.report.figures import lines_over_steps

    rows = accuracy_rows(summaries, base_accuracy)
    arms = list(dict.fromkeys(s["arm"] for s in summaries))
    chart = lines_over_steps(rows, runs=[*arms, BASE], y_title="held-out accuracy (sampled pass@1)",
                             facet="domain", facet_order=["math", "code"], dash="curve",
                             x_title="rollouts generated", y_format=".2f")  # fmt: skip
    path = root / "accuracy.png"
    spec = chart.to_dict()
    path.write_bytes(deps.vl_convert().vegalite_to_png(spec, vl_version=deps.vegalite_version(), scale=2))
    return [path]


def accuracy_rows(summaries: list[dict[str, Any]], base_accuracy: dict[str, float]) -> list[dict[str, Any]]:
    """Curve points: per arm the mean over seeds and each seed, and the base policy's level."""
    by_arm: dict[str, list[list[dict]]] = defaultdict(list)
    for summary in sorted(summaries, key=lambda s: s["seed"]):
        by_arm[summary["arm"]].append(summary["points"])
    rows: list[dict[str, Any]] = []
    widest = max(p["generated"] for s in summaries for p in s["points"])
    for domain in ("math", "code"):
        for arm, runs in by_arm.items():
            for seed, points in enumerate(runs, start=1):
                rows += [{"run": arm, "curve": f"seed {seed}", "domain": domain, "x": p["generated"],
                          "value": p[domain]} for p in points]  # fmt: skip
            rows += [{"run": arm, "curve": MEAN, "domain": domain, "x": x, "value": y}
                     for x, y in zip(*_mean_curve(runs, domain), strict=True)]  # fmt: skip
        rows += [{"run": BASE, "curve": MEAN, "domain": domain, "x": x, "value": base_accuracy[domain]}
                 for x in (0, widest)]  # fmt: skip
    return rows


def _mean_curve(runs: list[list[dict]], domain: str) -> tuple[list[float], list[float]]:
    """Point-wise mean over seeds (the runs stop at the same budgets; dynamic sampling may
    stop a little short, so the x positions are averaged too)."""
    count = min(len(points) for points in runs)
    xs = [sum(points[i]["generated"] for points in runs) / len(runs) for i in range(count)]
    ys = [sum(points[i][domain] for points in runs) / len(runs) for i in range(count)]
    return xs, ys
