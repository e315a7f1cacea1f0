"""Finding and reading a training run's OUTPUT/metrics.jsonl for the report.

The catalog is the source of truth for what the report can compute from rollouts (rewards,
accuracy, lengths, groups, epochs); metrics.jsonl adds what only the trainer saw: the loss, clip
fractions, KL, entropy, gradient norm, timings and the rollout/trainer mismatch (`sampling/*`).
Its place is the run's stored `output_dir` (with `{run_id}` resolved), or a path the user gives
(`--metrics RUN=PATH`, the file or its folder) when the folder moved. A missing file or an
unreadable line is a note in the report, never a failure: the catalog's figures still come.

Covers: locating and parsing the file. Does not cover: which keys are drawn (`update_charts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"


@dataclass(frozen=True, slots=True)
class MetricsFile:
    """The lines of one run's metrics.jsonl (one dict per step, last line kept per step)."""

    path: Path | None
    lines: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def metrics_path(run_id: str, config: dict[str, Any], override: Path | None) -> Path | None:
    """Where the run's metrics.jsonl should be: the override (a file or a folder), else
    output_dir from the config stored with the run."""
    if override is not None:
        return override / METRICS_FILE if override.is_dir() else override
    output_dir = config.get("output_dir")
    if not output_dir:
        return None
    return Path(str(output_dir).replace("{run_id}", run_id)) / METRICS_FILE


def read_metrics(run_id: str, path: Path | None) -> MetricsFile:
    """Parse the file; a missing file or a bad line becomes a note naming it."""
    if path is None:
        return MetricsFile(None, notes=[f"run {run_id}: no output_dir stored; pass --metrics {run_id}=PATH"])
    if not path.is_file():
        return MetricsFile(
            path,
            notes=[
                f"run {run_id}: {path} not found, so the loss, clip, KL, entropy, mismatch and timing "
                f"figures leave it out; pass --metrics {run_id}=PATH if the folder moved"
            ],
        )
    by_step: dict[int, dict[str, Any]] = {}
    notes = []
    for number, text in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            step = int(line["step"])
        except (ValueError, KeyError, TypeError) as error:
            reason = "no step field" if isinstance(error, KeyError) else "not a JSON object with a step"
            notes.append(f"{path} line {number}: {reason}; skipped")
            continue
        by_step[step] = line  # a step written twice (an old resume) counts once, the latest
    return MetricsFile(path, [by_step[step] for step in sorted(by_step)], notes)
