"""A report figure (a Vega-Lite spec with its data inline) and the chart shapes figures share.

Every chart is built with Altair (imported through `deps` when a report is drawn) and kept as a
plain Vega-Lite dict: the HTML page embeds it as JSON, vl-convert renders it to PNG, and tests
read its data without a browser. Runs get the same colour in every figure (`run_colour`), and
curves over steps mark each run's switch to stage 2 with a dashed rule of the run's colour.

Covers: `Figure`, the run colour scale, lines over steps, stacked bars. Does not cover: what a
figure shows (`catalog_charts`, `run_charts`, `update_charts`, `behaviour_charts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from srpo.report import deps
from srpo.report.catalog_data import Rows

WIDTH = 260
"""Width of one panel in pixels (figures with several panels are wider)."""
HEIGHT = 170
MAX_POINTS = 60
"""Curves with more x values than this are drawn without point marks."""
PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#eeca3b",
    "#bab0ac",
    "#1f77b4",
    "#17becf",
    "#8c564b",
    "#bcbd22",
    "#7f7f7f",
    "#d62728",
)


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the report."""

    figure_id: str
    """Stable id: the HTML anchor and the PNG file name."""
    section: str
    """catalog, runs, training or behaviour."""
    title: str
    caption: str
    """What the figure shows and how to read it (under the figure)."""
    spec: dict[str, Any]
    """The Vega-Lite spec, data inline, no $schema (nothing to fetch)."""
    data: Rows
    """The rows drawn (the spec holds the same), for tests and --format png's sidecar."""


def make_figure(chart: Any, *, figure_id: str, section: str, title: str, caption: str, data: Rows) -> Figure:
    spec = chart.to_dict()
    spec.pop("$schema", None)
    return Figure(figure_id=figure_id, section=section, title=title, caption=caption, spec=spec, data=data)


def run_colour(runs: Sequence[str], title: str = "run") -> Any:
    alt = deps.altair()
    return alt.Color("run:N", title=title, scale=alt.Scale(domain=list(runs), range=list(PALETTE)))


def ordered_colour(
    field: str, order: Sequence[str], *, title: str, colours: dict[str, str] | None = None
) -> Any:
    """A nominal colour scale with a fixed order (and fixed colours for named values)."""
    alt = deps.altair()
    fixed = colours or {}
    spare = iter(c for c in PALETTE if c not in fixed.values())
    scale = alt.Scale(domain=list(order), range=[fixed.get(v) or next(spare, "#999999") for v in order])
    return alt.Color(f"{field}:N", title=title, scale=scale, sort=list(order))


def lines_over_steps(
    rows: Rows,
    *,
    runs: Sequence[str],
    y_title: str,
    facet: str | None = None,
    facet_order: Sequence[str] | None = None,
    dash: str | None = None,
    switches: dict[str, int] | None = None,
    x_title: str = "step",
    y_format: str = ".3~f",
    shared_y: bool = True,
    columns: int | None = None,
) -> Any:
    """Curves of `value` over `x` (the step, or a window), one colour per run, optionally a
    panel per `facet` value and a dash per `dash` value; the stage switch of each run (x of the
    switch step) as a dashed rule in every panel."""
    alt = deps.altair()
    data = list(rows)
    panels = list(facet_order) if facet_order else sorted({row[facet] for row in rows}) if facet else [None]
    for run, step in (switches or {}).items():
        for panel in panels:
            data.append({"run": run, "switch_step": step, **({facet: panel} if facet else {})})
    encoding: dict[str, Any] = {
        "x": alt.X("x:Q", title=x_title, axis=alt.Axis(format="~d", tickMinStep=1)),
        "y": alt.Y("value:Q", title=y_title, axis=alt.Axis(format=y_format)),
        "color": run_colour(runs),
        "tooltip": [
            alt.Tooltip("run:N"),
            alt.Tooltip("x:Q", title=x_title),
            alt.Tooltip("value:Q", title=y_title, format=y_format),
        ],
    }
    if dash:
        encoding["strokeDash"] = alt.StrokeDash(f"{dash}:N", title=dash)
        encoding["tooltip"].append(alt.Tooltip(f"{dash}:N"))
    many = len({row["x"] for row in rows}) > MAX_POINTS
    line = alt.Chart().mark_line(point=not many).encode(**encoding).transform_filter("isValid(datum.value)")
    rule = (
        alt.Chart()
        .mark_rule(strokeDash=[5, 3], opacity=0.8)
        .encode(
            x="switch_step:Q",
            color=run_colour(runs),
            tooltip=[alt.Tooltip("run:N"), alt.Tooltip("switch_step:Q", title="stage 2 from after step")],
        )
        .transform_filter("isValid(datum.switch_step)")
    )
    layers = [line, rule] if switches else [line]
    chart = alt.layer(*layers, data=alt.Data(values=data)).properties(width=WIDTH, height=HEIGHT)
    if not facet:
        return chart
    faceted = chart.facet(
        facet=alt.Facet(f"{facet}:N", title=None, sort=list(panels)), columns=columns or len(panels)
    )
    return faceted if shared_y else faceted.resolve_scale(y="independent")


def stacked_bars(
    rows: Rows,
    *,
    category: str,
    value: str,
    colour_field: str,
    colour: Any,
    value_title: str,
    order: Sequence[str],
    category_title: str | None = None,
    horizontal: bool = True,
    facet: str | None = None,
) -> Any:
    """Bars of `value` per `category`, stacked by `colour_field` (drawn with `colour`) in `order`."""
    alt = deps.altair()
    ranked = [{**row, "stack_rank": _rank(order, row[colour_field])} for row in rows]
    counts = alt.Axis(format="~d", tickMinStep=1)
    along = alt.X(f"{value}:Q", title=value_title, stack="zero", axis=counts)
    across = alt.Y(f"{category}:N", title=category_title, sort=None)
    if not horizontal:
        along = alt.Y(f"{value}:Q", title=value_title, stack="zero", axis=counts)
        across = alt.X(f"{category}:O", title=category_title, sort=None, axis=alt.Axis(labelAngle=0))
    chart = (
        alt.Chart(alt.Data(values=ranked))
        .mark_bar()
        .encode(
            along,
            across,
            color=colour,
            order=alt.Order("stack_rank:Q"),
            tooltip=[
                alt.Tooltip(f"{category}:N"),
                alt.Tooltip(f"{colour_field}:N"),
                alt.Tooltip(f"{value}:Q"),
            ],
        )
    )
    if horizontal:
        bands = len({row[category] for row in rows})
        chart = chart.properties(width=WIDTH * 2, height=max(60, 22 * bands))
    else:
        chart = chart.properties(width=WIDTH, height=HEIGHT)
    if facet:
        return chart.facet(column=alt.Column(f"{facet}:N", title=None))
    return chart


def _rank(order: Sequence[str], value: str) -> int:
    return list(order).index(value) if value in order else len(order)
