"""The training runs' figures computed from the catalog: rewards, accuracy, lengths, groups, epochs.

Several runs are overlaid (one colour each, the same in every figure); curves over steps mark
each run's switch to stage 2. Domains are panels: `all`, then `math` and `code` where the run
sampled them.

Covers: six figures from `RunData` rows. Does not cover: metrics.jsonl figures
(`update_charts`) or reasoning behaviour (`behaviour_charts`).
"""

from __future__ import annotations

from collections.abc import Sequence

from srpo.report import deps
from srpo.report.catalog_data import Rows
from srpo.report.figures import HEIGHT, WIDTH, Figure, lines_over_steps, make_figure, ordered_colour
from srpo.report.run_data import EPOCH_CATEGORIES, RunData

SECTION = "runs"
DOMAIN_ORDER = ("all", "math", "code")
EPOCH_COLOURS = {
    "new": "#4c78a8",
    "mixed": "#54a24b",
    "all_wrong": "#e45756",
    "solved": "#eeca3b",
    "returned": "#b279a2",
    "dropped": "#bab0ac",
    "subsampled": "#9d755d",
}


def switches(runs: Sequence[RunData]) -> dict[str, int]:
    """run id -> the last step of stage 1, for runs that switched."""
    return {r.info.run_id: r.info.stage_switch_step for r in runs if r.info.stage_switch_step is not None}


def _per_domain(runs: Sequence[RunData], field: str) -> Rows:
    return [
        {"run": r.info.run_id, "domain": row["domain"], "x": row["step"], "value": row[field]}
        for r in runs
        for row in r.steps
        if row[field] is not None
    ]


def _domains(rows: Rows) -> list[str]:
    return [d for d in DOMAIN_ORDER if any(row["domain"] == d for row in rows)]


def _domain_figure(
    runs: Sequence[RunData],
    field: str,
    *,
    figure_id: str,
    title: str,
    y_title: str,
    caption: str,
    y_format: str = ".2f",
) -> Figure | None:
    rows = _per_domain(runs, field)
    if not rows:
        return None
    ids = [r.info.run_id for r in runs]
    chart = lines_over_steps(
        rows,
        runs=ids,
        y_title=y_title,
        facet="domain",
        facet_order=_domains(rows),
        switches=switches(runs),
        y_format=y_format,
    )
    return make_figure(chart, figure_id=figure_id, section=SECTION, title=title, caption=caption, data=rows)


def reward_figure(runs: Sequence[RunData]) -> Figure | None:
    return _domain_figure(
        runs,
        "reward",
        figure_id="run-reward",
        title="Reward per domain",
        y_title="mean reward",
        caption="Mean reward of the step's rollouts (with reward.format_reward, the format bonus "
        "included), from the catalog's rollouts. Dashed rule: the run's last step of stage 1.",
    )


def accuracy_figure(runs: Sequence[RunData]) -> Figure | None:
    return _domain_figure(
        runs,
        "accuracy",
        figure_id="run-accuracy",
        title="Accuracy per domain",
        y_title="share correct",
        caption="Share of the step's responses the grader marked correct (no format bonus). With history "
        "resampling the batches hold the problems not yet solved, so the batch accuracy understates "
        "progress on the whole set.",
    )


def length_figure(runs: Sequence[RunData]) -> Figure | None:
    return _domain_figure(
        runs,
        "tokens",
        figure_id="run-length",
        title="Response length per domain",
        y_title="mean tokens",
        caption="Mean response length in tokens. The SRPO report's responses grow longer through "
        "stage 1 and again once code enters in stage 2.",
        y_format=".0f",
    )


def outcome_length_figure(runs: Sequence[RunData]) -> Figure | None:
    rows = [
        {"run": r.info.run_id, "outcome": outcome, "x": row["step"], "value": row[field]}
        for r in runs
        for row in r.steps
        if row["domain"] == "all"
        for outcome, field in (("correct", "tokens_correct"), ("wrong", "tokens_wrong"))
        if row[field] is not None
    ]
    if not rows:
        return None
    chart = lines_over_steps(
        rows,
        runs=[r.info.run_id for r in runs],
        y_title="mean tokens",
        facet="outcome",
        facet_order=("correct", "wrong"),
        switches=switches(runs),
        y_format=".0f",
    )
    return make_figure(
        chart,
        figure_id="run-length-outcome",
        section=SECTION,
        title="Response length: correct vs wrong",
        caption="Mean tokens of the responses graded correct, and of all others (wrong, no answer, timeout, "
        "error), every domain together. Long wrong responses are often cut off (finish_reason length).",
        data=rows,
    )


def groups_figure(runs: Sequence[RunData]) -> Figure | None:
    kinds = (
        ("identical rewards", "identical"),
        ("all correct", "all_correct"),
        ("none correct", "none_correct"),
    )
    rows = [
        {"run": r.info.run_id, "kind": kind, "x": row["step"], "value": row[field]}
        for r in runs
        for row in r.groups
        for kind, field in kinds
    ]
    if not rows:
        return None
    chart = lines_over_steps(
        rows,
        runs=[r.info.run_id for r in runs],
        y_title="share of groups",
        facet="kind",
        facet_order=[k for k, _ in kinds],
        switches=switches(runs),
        y_format=".0%",
    )
    return make_figure(
        chart,
        figure_id="run-groups",
        section=SECTION,
        title="Groups with identical rewards",
        caption="Share of the step's groups (one problem's samples) whose rewards are all equal: every "
        "advantage is zero and the group gives no gradient (the trainer's frac_reward_zero_std). "
        "History resampling exists to keep this low: solved problems are dropped after each epoch.",
        data=rows,
    )


# Problems the epoch did not take: drawn below the axis.
LEFT_OUT = ("dropped", "subsampled")


def resampling_figure(runs: Sequence[RunData]) -> Figure | None:
    rows = [{"run": r.info.run_id, **row} for r in runs for row in r.epochs]
    if not rows:
        return None
    alt = deps.altair()
    order = [c for c in EPOCH_CATEGORIES if any(r["category"] == c for r in rows)]
    order += sorted({r["category"] for r in rows} - set(order))
    drawn = [
        {
            **row,
            "bar": -row["problems"] if row["category"] in LEFT_OUT else row["problems"],
            "stack_rank": order.index(row["category"]),
        }
        for row in rows
    ]
    chart = (
        alt.Chart(alt.Data(values=drawn))
        .mark_bar()
        .encode(
            x=alt.X("epoch:O", title="epoch", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "bar:Q",
                stack="zero",
                axis=alt.Axis(format="~d", tickMinStep=1),
                title="problems in the epoch (above), left out (below)",
            ),
            color=ordered_colour("category", order, title="problems", colours=EPOCH_COLOURS),
            order=alt.Order("stack_rank:Q"),
            tooltip=["run:N", "epoch:O", "stage:O", "category:N", "problems:Q"],
        )
        .properties(width=max(WIDTH, 28 * len({r["epoch"] for r in rows})), height=HEIGHT)
    )
    if len(runs) > 1:
        chart = chart.facet(column=alt.Column("run:N", title=None, sort=[r.info.run_id for r in runs]))
    return make_figure(
        chart,
        figure_id="run-resampling",
        section=SECTION,
        title="History resampling per epoch",
        caption="Above the axis, each epoch's problems by why they are there (epoch_problems.history: new; "
        "mixed or all_wrong in the latest epoch they were sampled in; solved, with data.drop_solved=false; "
        "returned after data.return_after_epochs). Below it, the problems left out: dropped because every "
        "rollout of their latest epoch was correct (counted from the rollouts), and subsampled (from "
        "metrics.jsonl: kept by resampling but left out by data.code_share or data.epoch_size).",
        data=rows,
    )


BUILDERS = (
    reward_figure,
    accuracy_figure,
    length_figure,
    outcome_length_figure,
    groups_figure,
    resampling_figure,
)


def run_figures(runs: Sequence[RunData]) -> list[Figure]:
    return [figure for builder in BUILDERS if (figure := builder(runs)) is not None]
