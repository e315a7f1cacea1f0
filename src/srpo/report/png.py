"""Writing a `Report`'s figures as PNG images (for a paper or a slide), without a browser.

vl-convert renders each Vega-Lite spec in its embedded engine; one file per figure, named by
the figure's id (`run-reward.png`, ...), plus `figures.json` listing id, title, caption and file
so a script can pick them up.

Covers: the images. Does not cover: the page (`html`).
"""

from __future__ import annotations

import json
from pathlib import Path

from srpo.report import deps
from srpo.report.document import Report


def write_pngs(report: Report, directory: Path, *, scale: float = 2.0) -> list[Path]:
    """Every figure as `directory/<figure_id>.png`; returns the files written."""
    vl_convert = deps.vl_convert()
    version = deps.vegalite_version()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in report.figures:
        path = directory / f"{figure.figure_id}.png"
        path.write_bytes(vl_convert.vegalite_to_png(figure.spec, vl_version=version, scale=scale))
        written.append(path)
    index = [
        {"id": f.figure_id, "title": f.title, "caption": f.caption, "file": f"{f.figure_id}.png"}
        for f in report.figures
    ]
    (directory / "figures.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return written
