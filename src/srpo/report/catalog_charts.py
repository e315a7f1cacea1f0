"""The catalog's figures: what each source gave, what was verified, duplicated, leaked, how hard.

Each builder takes `CatalogData` and returns a `Figure`, or None when there is nothing to draw
(no duplicates found, no problem rated): the page then says so in words instead of showing an
empty chart.

Covers: the six catalog figures. Does not cover: the queries (`catalog_data`).
"""

from __future__ import annotations

from srpo.report import deps
from srpo.report.catalog_data import (
    BENCHMARK,
    DIFFICULTY_ORDER,
    KEPT,
    PASS_RATE_BINS,
    UNREADABLE,
    CatalogData,
)
from srpo.report.figures import HEIGHT, WIDTH, Figure, make_figure, ordered_colour, stacked_bars

SECTION = "catalog"
VERIFY_ORDER = ("verified", "pending", "ambiguous", "flaky", "wrong", "unverifiable")
VERIFY_COLOURS = {
    "verified": "#54a24b",
    "pending": "#bab0ac",
    "ambiguous": "#eeca3b",
    "flaky": "#9d755d",
    "wrong": "#e45756",
    "unverifiable": "#b279a2",
}
DIFFICULTY_COLOURS = {"easy": "#54a24b", "medium": "#f58518", "hard": "#e45756", "unrated": "#bab0ac"}
OUTCOME_COLOURS = {KEPT: "#54a24b", BENCHMARK: "#4c78a8", UNREADABLE: "#333333"}


def _label(row: dict) -> str:
    return f"{row['source']} · {row['domain']}"


def _bars_figure(
    rows: list[dict],
    *,
    category: str,
    stack: str,
    order: list[str],
    value_title: str,
    figure_id: str,
    title: str,
    caption: str,
    legend: str | None = None,
    colours: dict[str, str] | None = None,
) -> Figure:
    """Rows per `category`, stacked by `stack` in `order`: the shape of most catalog figures."""
    colour = ordered_colour(stack, order, title=legend or stack, colours=colours)
    chart = stacked_bars(rows, category=category, value="rows", colour_field=stack, colour=colour,
                         value_title=value_title, order=order)  # fmt: skip
    return make_figure(chart, figure_id=figure_id, section=SECTION, title=title, caption=caption, data=rows)


def outcomes_figure(data: CatalogData) -> Figure | None:
    rows = data.outcomes
    if not rows:
        return None
    reasons = sorted({r["outcome"] for r in rows} - {KEPT, BENCHMARK, UNREADABLE})
    order = [o for o in (KEPT, BENCHMARK) if any(r["outcome"] == o for r in rows)] + reasons
    order += [UNREADABLE] if any(r["outcome"] == UNREADABLE for r in rows) else []
    return _bars_figure(
        rows,
        category="source",
        stack="outcome",
        order=order,
        colours=OUTCOME_COLOURS,
        value_title="rows",
        figure_id="catalog-rows",
        title="Rows per source: kept, and rejected by reason",
        caption="Every row each source gave: kept for training, a benchmark kept for evaluation, rejected "
        "with its dotted reason (cleaning rules, dedup.*, decontam.*), or unreadable (invalid_rows: bad "
        "JSON, missing fields). Nothing is deleted: `srpo-curate query --reason R` lists any bar.",
    )


def verification_figure(data: CatalogData) -> Figure | None:
    rows = [{**row, "label": _label(row)} for row in data.verification]
    if not rows:
        return None
    order = [s for s in VERIFY_ORDER if any(r["status"] == s for r in rows)]
    return _bars_figure(
        rows,
        category="label",
        stack="status",
        order=order,
        legend="verify_status",
        colours=VERIFY_COLOURS,
        value_title="kept problems",
        figure_id="catalog-verification",
        title="Verification of kept problems",
        caption="Math golds checked against their reference solutions, code checked by running the "
        "reference solution in the sandbox (`srpo-curate verify`). Training takes verified problems only "
        "unless data.verified_only is false.",
    )


def duplicates_figure(data: CatalogData) -> Figure | None:
    rows = data.duplicates
    if not rows:
        return None
    alt = deps.altair()
    base = alt.Chart().encode(
        x=alt.X("kept_in:N", title="source of the copy kept"),
        y=alt.Y("source:N", title="source of the duplicate"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("rows:Q", title="rows", scale=alt.Scale(scheme="oranges")),
        tooltip=["source:N", "kept_in:N", "kind:N", "rows:Q"],
    )
    text = base.mark_text(fontSize=11).encode(text="rows:Q")
    sources = len({r["source"] for r in rows} | {r["kept_in"] for r in rows})
    chart = (
        alt.layer(cells, text, data=alt.Data(values=rows))
        .properties(width=max(120, 40 * sources), height=max(60, 26 * sources))
        .facet(column=alt.Column("kind:N", title=None))
    )
    return make_figure(
        chart,
        figure_id="catalog-duplicates",
        section=SECTION,
        title="Duplicates: where the kept copy is",
        caption="Problems rejected as dedup.exact (same question and answer) or dedup.near (MinHash LSH, "
        "Jaccard at or above dedup.threshold), by their own source and the source of the representative "
        "that was kept. The diagonal is duplication inside one source.",
        data=rows,
    )


def contamination_figure(data: CatalogData) -> Figure | None:
    rows = data.contamination
    if not rows:
        return None
    order = sorted({r["benchmark"] for r in rows})
    return _bars_figure(
        rows,
        category="source",
        stack="benchmark",
        order=order,
        value_title="problems leaking a benchmark",
        figure_id="catalog-contamination",
        title="Contamination: training problems that leak a benchmark",
        caption="Training problems that share a 13-gram (and the numbers) with a registered benchmark "
        "problem, or are a near duplicate of one (decontam.*). They are rejected and never trained on.",
    )


def difficulty_figure(data: CatalogData) -> Figure | None:
    rows = [{**row, "label": _label(row)} for row in data.difficulty]
    if not rows:
        return None
    order = [d for d in DIFFICULTY_ORDER if any(r["difficulty"] == d for r in rows)]
    return _bars_figure(
        rows,
        category="label",
        stack="difficulty",
        order=order,
        colours=DIFFICULTY_COLOURS,
        value_title="kept problems",
        figure_id="catalog-difficulty",
        title="Difficulty per source and domain",
        caption="easy / medium / hard from the measured pass rate (`srpo-curate difficulty`: hard below "
        "thresholds.hard_below, easy from thresholds.easy_at) or the dataset's own rating; unrated: not "
        "measured yet. Training takes medium and hard by default (data.difficulties).",
    )


def pass_rate_figure(data: CatalogData) -> Figure | None:
    rows = [{**row, "label": _label(row)} for row in data.pass_rate]
    if not rows:
        return None
    alt = deps.altair()
    base = alt.Chart().encode(
        x=alt.X(
            "bin:O",
            title="pass rate (share of k samples correct)",
            sort=list(PASS_RATE_BINS),
            scale=alt.Scale(domain=list(PASS_RATE_BINS)),
            axis=alt.Axis(labelAngle=0),
        ),
        y=alt.Y("label:N", title=None),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", title="share of rated", scale=alt.Scale(scheme="blues", domain=[0, 1])),
        tooltip=["label:N", "bin:N", "rows:Q", alt.Tooltip("share:Q", format=".1%")],
    )
    text = base.mark_text(fontSize=11).encode(
        text="rows:Q",
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("black")),
    )
    bands = len({r["label"] for r in rows})
    chart = alt.layer(cells, text, data=alt.Data(values=rows)).properties(
        width=WIDTH * 2, height=max(HEIGHT // 3, 26 * bands)
    )
    return make_figure(
        chart,
        figure_id="catalog-pass-rate",
        section=SECTION,
        title="Pass-rate distribution per source and domain",
        caption="Problems rated by `srpo-curate difficulty`, by the share of their k samples the grader "
        "marked correct (numbers: problems; colour: share of the row). Pass rates 0 and 1 give GRPO "
        "groups with identical rewards, which carry no gradient.",
        data=rows,
    )


# (builder, what the page says when it has nothing to draw), in the order of the page.
BUILDERS = (
    (outcomes_figure, "The catalog holds no problem yet."),
    (verification_figure, "No kept problem to verify."),
    (duplicates_figure, "No duplicates found."),
    (
        contamination_figure,
        "No training problem leaks a registered benchmark (or none is registered: "
        "`srpo-curate ingest FILE --benchmark NAME`).",
    ),
    (difficulty_figure, "No kept problem to rate."),
    (pass_rate_figure, "No problem has a measured pass rate yet (`srpo-curate difficulty`)."),
)


def catalog_figures(data: CatalogData) -> tuple[list[Figure], list[str]]:
    """The figures with data, and a sentence for each one left out."""
    figures, absent = [], []
    for builder, sentence in BUILDERS:
        figure = builder(data)
        if figure is None:
            absent.append(sentence)
        else:
            figures.append(figure)
    return figures, absent
