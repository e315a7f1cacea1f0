"""The reasoning-behaviour figures: how often responses recheck, hesitate, explore, or (math)
write code to check themselves, per window, and how long responses with and without each are.

Covers: two figures from `BehaviourRow`s. Does not cover: the counting (`behaviour`).
"""

from __future__ import annotations

from collections.abc import Sequence

from srpo.report.behaviour import BehaviourRow
from srpo.report.figures import Figure, lines_over_steps, make_figure

SECTION = "behaviour"
ORDER = ("recheck", "hesitation", "exploration", "code_check")


def _x_title(rows: Sequence[BehaviourRow], window_steps: int | None) -> str:
    return "epoch" if window_steps is None else f"first step of a {window_steps}-step window"


def _order(rows: Sequence[BehaviourRow]) -> list[str]:
    present = list(dict.fromkeys(row.behaviour for row in rows))
    return [b for b in ORDER if b in present] + [b for b in present if b not in ORDER]


def share_figure(
    rows: Sequence[BehaviourRow], runs: Sequence[str], window_steps: int | None
) -> Figure | None:
    data = [
        {"run": r.run_id, "behaviour": r.behaviour, "x": r.window, "value": r.share, "responses": r.responses}
        for r in rows
        if r.responses
    ]
    if not data:
        return None
    chart = lines_over_steps(
        data,
        runs=runs,
        y_title="share of responses",
        facet="behaviour",
        facet_order=_order(rows),
        x_title=_x_title(rows, window_steps),
        y_format=".0%",
    )
    return make_figure(
        chart,
        figure_id="behaviour-share",
        section=SECTION,
        title="Reflective behaviour: share of responses",
        caption="Share of stored responses matching each pattern list (behaviour.* settings; defaults in "
        '`srpo.report.config`): recheck ("let me recheck", "verify"), hesitation ("wait", "hmm"), '
        'exploration ("alternatively", "let me try"); code_check: math responses with a python code '
        "block. The same numbers: `srpo-curate query --behaviour RUN`.",
        data=data,
    )


def length_figure(
    rows: Sequence[BehaviourRow], runs: Sequence[str], window_steps: int | None
) -> Figure | None:
    data = [
        {"run": r.run_id, "behaviour": r.behaviour, "responses": side, "x": r.window, "value": value}
        for r in rows
        for side, value in (("with", r.mean_tokens_with), ("without", r.mean_tokens_without))
        if value is not None
    ]
    if not data:
        return None
    chart = lines_over_steps(
        data,
        runs=runs,
        y_title="mean tokens",
        facet="behaviour",
        facet_order=_order(rows),
        dash="responses",
        x_title=_x_title(rows, window_steps),
        y_format=".0f",
    )
    return make_figure(
        chart,
        figure_id="behaviour-length",
        section=SECTION,
        title="Response length with and without each behaviour",
        caption="Mean tokens of the responses that show the behaviour (solid) and of those that do not "
        "(dashed), per window.",
        data=data,
    )


def behaviour_figures(
    rows: Sequence[BehaviourRow], runs: Sequence[str], window_steps: int | None
) -> list[Figure]:
    found = (share_figure(rows, runs, window_steps), length_figure(rows, runs, window_steps))
    return [figure for figure in found if figure is not None]
