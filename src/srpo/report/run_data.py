"""What the report shows of one training run, computed from the catalog where it can be.

From `rollouts` (the source of truth, which survives a lost output folder): per step and domain
the mean reward, accuracy (the grader said `correct`; no format bonus) and response length, the
length of correct and of wrong responses; per step the share of groups (a problem's samples in a
step) with identical rewards, all correct or none correct. From `epoch_problems`: per epoch how
many problems were new, mixed, all wrong, solved or returned, and from the run's own rollouts how
many were dropped by history resampling (solved in the latest epoch they were sampled in and not
in this epoch). From `runs`: the model, status and the stage switch. From metrics.jsonl (see
`metrics_file`): what only the trainer saw.

Covers: the SQL and row shapes. Does not cover: charts, or runs' behaviour (`behaviour`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.errors import InputError
from srpo.report.catalog_data import Rows
from srpo.report.metrics_file import MetricsFile, metrics_path, read_metrics

if TYPE_CHECKING:
    import duckdb

TRAIN_KIND = "train"
# The order the report stacks an epoch's problems in.
EPOCH_CATEGORIES = ("new", "mixed", "all_wrong", "solved", "returned", "dropped", "subsampled")

_DOMAINS = "domains AS (SELECT problem_id, any_value(domain) AS domain FROM problems GROUP BY problem_id)"

_STEPS = f"""
WITH {_DOMAINS},
r AS (
    SELECT r.step, coalesce(d.domain, 'math') AS domain, r.reward,
           coalesce(r.status = 'correct', false) AS correct, r.response_tokens AS tokens
    FROM rollouts r LEFT JOIN domains d ON r.problem_id = d.problem_id
    WHERE r.run_id = $run_id AND r.step IS NOT NULL
)
SELECT step, CASE WHEN grouping(domain) = 1 THEN 'all' ELSE domain END AS domain, count(*) AS samples,
       avg(reward) AS reward, avg(correct::DOUBLE) AS accuracy, avg(tokens) AS tokens,
       avg(tokens) FILTER (correct) AS tokens_correct, avg(tokens) FILTER (NOT correct) AS tokens_wrong
FROM r GROUP BY GROUPING SETS ((step, domain), (step)) ORDER BY step, domain"""

_GROUPS = """
WITH g AS (
    SELECT step, problem_id, max(reward) = min(reward) AS identical,
           bool_and(coalesce(status = 'correct', false)) AS all_correct,
           NOT bool_or(coalesce(status = 'correct', false)) AS none_correct
    FROM rollouts WHERE run_id = $run_id AND step IS NOT NULL GROUP BY step, problem_id
)
SELECT step, count(*) AS groups, avg(identical::DOUBLE) AS identical,
       avg(all_correct::DOUBLE) AS all_correct, avg(none_correct::DOUBLE) AS none_correct
FROM g GROUP BY step ORDER BY step"""

_EPOCHS = """
WITH outcome AS (
    SELECT problem_id, epoch, bool_and(coalesce(status = 'correct', false)) AS solved
    FROM rollouts WHERE run_id = $run_id GROUP BY problem_id, epoch
),
planned AS (SELECT DISTINCT epoch, stage FROM epoch_problems WHERE run_id = $run_id),
latest AS (
    SELECT p.epoch, p.stage, o.problem_id, arg_max(o.solved, o.epoch) AS solved
    FROM planned p JOIN outcome o ON o.epoch < p.epoch GROUP BY p.epoch, p.stage, o.problem_id
)
SELECT epoch, stage, history AS category, count(*) AS problems FROM epoch_problems
WHERE run_id = $run_id GROUP BY epoch, stage, history
UNION ALL
SELECT l.epoch, l.stage, 'dropped' AS category, count(*) AS problems FROM latest l
WHERE l.solved AND NOT EXISTS (
    SELECT 1 FROM epoch_problems e
    WHERE e.run_id = $run_id AND e.epoch = l.epoch AND e.problem_id = l.problem_id
) GROUP BY l.epoch, l.stage
ORDER BY epoch, category"""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The run's row of `runs`."""

    run_id: str
    kind: str
    model: str | None
    status: str
    stage: int | None
    epoch: int | None
    step: int | None
    stage_switch_step: int | None
    stage_switch_reason: str | None
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunData:
    """Everything the report draws of one run."""

    info: RunInfo
    steps: Rows
    """step, domain (all, math, code), samples, reward, accuracy, tokens, tokens_correct, tokens_wrong."""
    groups: Rows
    """step, groups, identical, all_correct, none_correct (shares of the step's groups)."""
    epochs: Rows
    """epoch, stage, category (EPOCH_CATEGORIES), problems."""
    metrics: MetricsFile
    notes: list[str] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> Rows:
    relation = con.sql(sql, params=params)
    names = relation.columns
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def read_info(con: duckdb.DuckDBPyConnection, run_id: str) -> RunInfo:
    found = con.execute(
        "SELECT run_id, kind, model, status, stage, epoch, step, stage_switch_step, stage_switch_reason, "
        "config FROM runs WHERE run_id = ?",
        [run_id],
    ).fetchall()
    if not found:
        known = [
            row[0]
            for row in con.execute(
                "SELECT run_id FROM runs WHERE kind = 'train' ORDER BY started_at DESC LIMIT 5"
            ).fetchall()
        ]
        hint = f"; training runs here: {', '.join(known)}" if known else "; this catalog has no training run"
        raise InputError(f"--run {run_id}: no run with that id{hint}")
    *head, config = found[0]
    info = RunInfo(*head, config=json.loads(config) if config else {})
    if info.kind != TRAIN_KIND:
        raise InputError(
            f"--run {run_id}: a {info.kind} run, not a training run "
            "(its pass rates are in the catalog figures)"
        )
    return info


def _subsampled(metrics: MetricsFile) -> Rows:
    """Problems resampling kept but the domain mix or epoch size left out: only the trainer logs it."""
    seen: dict[int, dict[str, Any]] = {}
    for line in metrics.lines:
        if "epoch" in line and line.get("resample/subsampled") and line["epoch"] not in seen:
            seen[line["epoch"]] = {
                "epoch": line["epoch"],
                "stage": line.get("stage"),
                "category": "subsampled",
                "problems": int(line["resample/subsampled"]),
            }
    return list(seen.values())


def _category_rank(category: str) -> int:
    return EPOCH_CATEGORIES.index(category) if category in EPOCH_CATEGORIES else len(EPOCH_CATEGORIES)


def read_run(con: duckdb.DuckDBPyConnection, run_id: str, *, metrics_override: Path | None = None) -> RunData:
    """The run's rows from the catalog and its metrics.jsonl (or `metrics_override`)."""
    info = read_info(con, run_id)
    params = {"run_id": run_id}
    metrics = read_metrics(run_id, metrics_path(run_id, info.config, metrics_override))
    steps = _rows(con, _STEPS, params)
    notes = list(metrics.notes)
    if not steps:
        notes.append(f"run {run_id}: no rollouts recorded yet")
    epochs = _rows(con, _EPOCHS, params) + _subsampled(metrics)
    epochs.sort(key=lambda row: (row["epoch"], _category_rank(row["category"])))
    return RunData(
        info=info,
        steps=steps,
        groups=_rows(con, _GROUPS, params),
        epochs=epochs,
        metrics=metrics,
        notes=notes,
    )
