"""Writing a `Report` as one self-contained HTML file.

Everything the page needs is inside it: the Vega, Vega-Lite and vega-embed JavaScript (bundled by
vl-convert, no CDN), every figure's spec with its data as JSON, and the style sheet. It fetches
nothing, so it opens offline, from a mail attachment or an artefact store. Figures render as SVG;
each `<figure>` gets `data-rendered="true"` once drawn, or `"error"` with the reason on the
console (what `just report-check` watches for in headless Chromium).

Covers: the page. Does not cover: what the figures hold (`build`) or images (`png`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape
from pathlib import Path

from srpo.report import deps
from srpo.report.document import SECTIONS, Report
from srpo.report.figures import Figure

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 0 auto; max-width: 1280px; padding: 0 24px 48px; }
h1 { margin: 24px 0 4px; } h2 { margin-top: 40px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta, figcaption, .absent, .notes { color: #555; }
nav a { margin-right: 14px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
figure.srpo-figure { margin: 24px 0; overflow-x: auto; }
figure.srpo-figure h3 { margin: 0 0 6px; font-size: 15px; }
figcaption { max-width: 900px; margin-top: 4px; }
.notes li { margin: 2px 0; }
code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
"""

EMBED = """
const specs = JSON.parse(document.getElementById("srpo-figures").textContent);
for (const [id, spec] of Object.entries(specs)) {
  const figure = document.getElementById(id);
  vegaEmbed(figure.querySelector(".chart"), spec, {renderer: "svg", actions: false, mode: "vega-lite"})
    .then(() => { figure.dataset.rendered = "true"; })
    .catch((error) => { figure.dataset.rendered = "error"; console.error(`figure ${id}: ${error}`); });
}
"""


@lru_cache(maxsize=1)
def javascript() -> str:
    """Vega, Vega-Lite and vega-embed as one script that sets window.vegaEmbed (built once)."""
    bundle = deps.vl_convert().javascript_bundle(vl_version=deps.vegalite_version())
    return _script_safe(bundle)


def _script_safe(text: str) -> str:
    """Text that cannot end the <script> element it sits in."""
    return text.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT").replace("<!--", "<\\!--")


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(str(name))}</th>" for name in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(figure: Figure) -> str:
    return (
        f'<figure class="srpo-figure" id="{escape(figure.figure_id)}" '
        f'data-section="{escape(figure.section)}">'
        f'<h3>{escape(figure.title)}</h3><div class="chart"></div>'
        f"<figcaption>{escape(figure.caption)}</figcaption></figure>"
    )


def _overview(report: Report) -> str:
    totals = report.totals
    catalog = _table(
        [
            {
                "sources": totals.sources,
                "problems": totals.problems,
                "kept for training": totals.kept,
                "rejected": totals.rejected,
                "benchmark rows": totals.benchmark,
                "unreadable rows": totals.unreadable,
            }
        ]
    )
    runs = _table(
        [
            {
                "run": r.run_id,
                "model": r.model,
                "status": r.status,
                "steps": r.steps,
                "epochs": r.epochs,
                "stage switch": r.stage_switch,
                "responses stored": r.responses_stored,
                "metrics.jsonl": r.metrics,
            }
            for r in report.runs
        ]
    )
    return catalog + (runs or '<p class="absent">No training run chosen (<code>--run RUN_ID</code>).</p>')


def _section(report: Report, key: str, title: str) -> str:
    figures = report.figures_in(key)
    absent = report.absent.get(key, [])
    if not figures and not absent:
        return ""
    parts = [f'<section id="section-{key}"><h2>{escape(title)}</h2>']
    parts += [_figure(figure) for figure in figures]
    parts += [f'<p class="absent">{escape(sentence)}</p>' for sentence in absent]
    return "".join(parts) + "</section>"


def render_html(report: Report) -> str:
    """The whole page as a string."""
    # allow_nan=False: a NaN or infinity would be invalid JSON in the browser; fail here instead.
    specs = json.dumps(
        {figure.figure_id: figure.spec for figure in report.figures}, separators=(",", ":"), allow_nan=False
    )
    sections = "".join(_section(report, key, title) for key, title in SECTIONS)
    nav = "".join(
        f'<a href="#section-{key}">{escape(title)}</a>'
        for key, title in SECTIONS
        if report.figures_in(key) or report.absent.get(key)
    )
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report.title)}</title><style>{STYLE}</style></head>
<body>
<h1>{escape(report.title)}</h1>
<p class="meta">catalog <code>{escape(report.catalog_path)}</code> · generated {escape(report.generated_at)}
 · {len(report.figures)} figures</p>
<nav>{nav}</nav>
{_overview(report)}
{f'<ul class="notes">{notes}</ul>' if notes else ""}
<noscript><p>The figures are drawn by JavaScript inside this file; allow scripts to see them.</p></noscript>
{sections}
<script type="module">{javascript()}</script>
<script type="application/json" id="srpo-figures">{_script_safe(specs)}</script>
<script type="module">{EMBED}</script>
</body></html>
"""


def write_html(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
