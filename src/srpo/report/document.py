"""The report as data: its figures by section, the runs it covers, and its notes.

`build` fills it from the catalog; `html` and `png` write it out. Keeping it plain data lets
tests check what a report holds without rendering anything.

Covers: the record types. Does not cover: building or writing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from srpo.report.catalog_data import CatalogTotals
from srpo.report.figures import Figure

SECTIONS = (
    ("catalog", "The catalog"),
    ("runs", "Training runs: rewards, lengths, groups, epochs"),
    ("training", "Training runs: the update, the engine, the time"),
    ("behaviour", "Reasoning behaviour"),
)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of the report's table of runs."""

    run_id: str
    model: str | None
    status: str
    steps: int | None
    epochs: int
    stage_switch: str
    """`after step N (reason)`, or `none`."""
    responses_stored: int
    metrics: str
    """Where metrics.jsonl was read from, or why it was not."""


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    catalog_path: str
    generated_at: str
    totals: CatalogTotals
    runs: list[RunSummary]
    figures: list[Figure]
    absent: dict[str, list[str]] = field(default_factory=dict)
    """Section -> sentences for figures left out because there was nothing to draw."""
    notes: list[str] = field(default_factory=list)
    """Things the reader should know (a missing metrics file, a run without stored responses)."""

    def figures_in(self, section: str) -> list[Figure]:
        return [figure for figure in self.figures if figure.section == section]
