"""The training runs' figures that only metrics.jsonl can give: the policy update, the
rollout/trainer mismatch, and where the time went.

Keys are drawn where present and skipped where not, so runs logged by an older or newer trainer
still give what they have (the mismatch keys `sampling/*` only exist once the trainer corrects
for the engine/trainer difference; an empty figure is left out, never drawn blank).

Covers: three figures from `MetricsFile` lines. Does not cover: reading the file (`metrics_file`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from srpo.report import deps
from srpo.report.catalog_data import Rows
from srpo.report.figures import WIDTH, Figure, lines_over_steps, make_figure, ordered_colour
from srpo.report.run_charts import switches
from srpo.report.run_data import RunData

SECTION = "training"
UPDATE_KEYS = (
    "loss",
    "clip_fraction",
    "clip_low_fraction",
    "clip_high_fraction",
    "kl",
    "entropy",
    "grad_norm",
    "learning_rate",
)
MISMATCH_KEYS = (
    "sampling/logp_diff/mean",
    "sampling/logp_diff/max",
    "sampling/is_ratio/mean",
    "sampling/is_capped_frac",
    "sampling/is_masked_frac",
)
# (phase, key): the wall-clock parts of a step, in the order they happen. Grading runs on a
# background thread while generation goes on; only the wait for it after generation is its own.
PHASES = (
    ("generate", "time/generate_s"),
    ("grading (not overlapped)", "time/reward_wait_s"),
    ("write rollouts", "time/write_s"),
    ("update", "time/train_s"),
    ("weight sync", "time/sync_s"),
)
OTHER = "other"


def _number(value: object) -> bool:
    """A finite number (NaN and infinity would make the page's JSON invalid)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _series(runs: Sequence[RunData], keys: Sequence[str], *, prefix_keys: str | None = None) -> Rows:
    rows = []
    for run in runs:
        for line in run.metrics.lines:
            wanted = list(keys) + sorted(
                k for k in line if prefix_keys and k.startswith(prefix_keys) and k not in keys
            )
            for key in wanted:
                if _number(line.get(key)):
                    rows.append(
                        {"run": run.info.run_id, "metric": key, "x": line["step"], "value": float(line[key])}
                    )
    return rows


def _metric_figure(runs: Sequence[RunData], rows: Rows, **text: str) -> Figure:
    present = list(dict.fromkeys(row["metric"] for row in rows))
    chart = lines_over_steps(
        rows,
        runs=[r.info.run_id for r in runs],
        y_title="value",
        facet="metric",
        facet_order=present,
        switches=switches(runs),
        y_format=".3~g",
        shared_y=False,
        columns=min(4, len(present)),
    )
    return make_figure(chart, section=SECTION, data=rows, **text)


def update_figure(runs: Sequence[RunData]) -> Figure | None:
    rows = _series(runs, UPDATE_KEYS)
    rows.sort(key=lambda row: UPDATE_KEYS.index(row["metric"]))
    if not rows:
        return None
    return _metric_figure(
        runs,
        rows,
        figure_id="train-update",
        title="The policy update: loss, clipping, KL, entropy",
        caption="From metrics.jsonl. clip_low / clip_high_fraction: share of loss tokens whose ratio was "
        "clipped below 1 - ε_low or above 1 + ε_high (DAPO clip-higher); kl: k3 estimate to the reference "
        "(0 without objective.kl_coef); entropy of the policy over response tokens; grad_norm before "
        "clipping.",
    )


def mismatch_figure(runs: Sequence[RunData]) -> Figure | None:
    rows = _series(runs, MISMATCH_KEYS, prefix_keys="sampling/")
    if not rows:
        return None
    return _metric_figure(
        runs,
        rows,
        figure_id="train-mismatch",
        title="Rollout engine vs trainer",
        caption="From metrics.jsonl: |trainer log-prob - engine log-prob| per token (mean, max), the "
        "importance ratio between them and the share of tokens whose weight was capped or masked. Near "
        "zero with the transformers engine on the live policy; vLLM's sampler differs a little.",
    )


def time_rows(runs: Sequence[RunData]) -> Rows:
    """Mean seconds per step of each phase, per run (steps without timings are skipped)."""
    rows = []
    for run in runs:
        timed = [line for line in run.metrics.lines if _number(line.get("time/step_s"))]
        if not timed:
            continue
        for phase, key in PHASES:
            values = [float(line[key]) for line in timed if _number(line.get(key))]
            if values:
                rows.append({"run": run.info.run_id, "phase": phase, "seconds": statistics.fmean(values)})
        parts = [sum(float(line[key]) for _, key in PHASES if _number(line.get(key))) for line in timed]
        other = statistics.fmean(
            max(0.0, float(line["time/step_s"]) - part) for line, part in zip(timed, parts, strict=True)
        )
        rows.append({"run": run.info.run_id, "phase": OTHER, "seconds": other})
    return rows


def time_figure(runs: Sequence[RunData]) -> Figure | None:
    rows = time_rows(runs)
    if not rows:
        return None
    alt = deps.altair()
    order = [phase for phase, _ in PHASES] + [OTHER]
    ranked = [{**row, "stack_rank": order.index(row["phase"])} for row in rows]
    chart = (
        alt.Chart(alt.Data(values=ranked))
        .mark_bar()
        .encode(
            x=alt.X("seconds:Q", title="mean seconds per step", stack="zero"),
            y=alt.Y("run:N", title=None),
            color=ordered_colour("phase", order, title="phase"),
            order=alt.Order("stack_rank:Q"),
            tooltip=["run:N", "phase:N", alt.Tooltip("seconds:Q", format=".3f")],
        )
        .properties(width=WIDTH * 2, height=max(40, 30 * len({r["run"] for r in rows})))
    )
    return make_figure(
        chart,
        figure_id="train-time",
        section=SECTION,
        title="Where the time went",
        caption="Mean wall-clock seconds per step, from metrics.jsonl: generating rollouts, waiting for "
        "grades not finished when generation ended (grading itself runs beside generation), writing "
        "rollouts to the catalog, the policy update, syncing weights to a vLLM engine, and the rest.",
        data=rows,
    )


BUILDERS = (update_figure, mismatch_figure, time_figure)


def update_figures(runs: Sequence[RunData]) -> list[Figure]:
    return [figure for builder in BUILDERS if (figure := builder(runs)) is not None]
