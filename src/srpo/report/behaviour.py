"""Reasoning behaviour over a run's stored responses, as the SRPO report measures it.

For each window (an epoch, or `behaviour.window_steps` training steps) and each behaviour of
`BehaviourConfig` (recheck, hesitation, exploration; code_check over math responses only): how
many responses were stored, how many show the behaviour, their share, and the mean length in
tokens of the responses with and without it. One SQL query over `rollouts`, with DuckDB's RE2
`regexp_matches` (case-insensitive), so a run of millions of responses is counted in the
catalog, not in Python. Responses are those the run stored (`logging.store_responses` for
training, `keep_text` for difficulty runs); rollouts without text are not counted.

Covers: the counts. Does not cover: drawing them (`behaviour_charts`) or printing them (the CLI).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from srpo.errors import InputError
from srpo.report.config import MATH_ONLY, BehaviourConfig

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True, slots=True)
class BehaviourRow:
    """One behaviour in one window of one run."""

    run_id: str
    window: int
    """The epoch, or the first step of the window (with behaviour.window_steps)."""
    first_step: int | None
    """First and last training step with stored responses in the window (None for difficulty runs)."""
    last_step: int | None
    behaviour: str
    """recheck, hesitation, exploration or code_check."""
    scope: str
    """Which responses were counted: `all`, or `math` (code_check)."""
    responses: int
    showing: int
    """Responses in scope that match at least one of the behaviour's patterns."""
    share: float
    mean_tokens_with: float | None
    mean_tokens_without: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


COLUMNS = tuple(BehaviourRow.__dataclass_fields__)


def combined(patterns: tuple[str, ...]) -> str:
    """One RE2 alternation of every pattern of a list."""
    return "|".join(f"(?:{pattern})" for pattern in patterns)


def check_patterns(con: duckdb.DuckDBPyConnection, config: BehaviourConfig) -> None:
    """Refuse a pattern RE2 cannot compile, naming its setting."""
    import duckdb

    for name, patterns in config.patterns().items():
        for pattern in patterns:
            try:
                con.execute("SELECT regexp_matches('', $pattern, 'i')", {"pattern": pattern}).fetchall()
            except duckdb.Error as error:
                first = str(error).strip().splitlines()[0]
                raise InputError(
                    f"behaviour.{name}: {pattern!r} is not an RE2 regular expression: {first}"
                ) from error


def _window_expression(config: BehaviourConfig) -> str:
    if config.window_steps is None:
        return "r.epoch"
    size = int(config.window_steps)  # validated: an int >= 1, safe to inline
    return f"((r.step - 1) // {size}) * {size} + 1"


def _query(config: BehaviourConfig) -> tuple[str, list[str]]:
    names = list(config.patterns())
    flags = ",\n".join(f"regexp_matches(r.response, $pattern{i}, 'i') AS shows{i}" for i in range(len(names)))
    aggregates = []
    for i, name in enumerate(names):
        scope = "domain = 'math'" if name in MATH_ONLY else "true"
        aggregates.append(
            f"count(*) FILTER ({scope}), count(*) FILTER ({scope} AND shows{i}), "
            f"avg(tokens) FILTER ({scope} AND shows{i}), avg(tokens) FILTER ({scope} AND NOT shows{i})"
        )
    sql = f"""
    WITH domains AS (SELECT problem_id, any_value(domain) AS domain FROM problems GROUP BY problem_id),
    texts AS (
        SELECT {_window_expression(config)} AS win, r.step, r.response_tokens AS tokens,
               coalesce(d.domain, 'math') AS domain{"," if flags else ""}
               {flags}
        FROM rollouts r LEFT JOIN domains d ON r.problem_id = d.problem_id
        WHERE r.run_id = $run_id AND r.response IS NOT NULL
    )
    SELECT win, min(step), max(step){", " if aggregates else ""}{", ".join(aggregates)}
    FROM texts GROUP BY win ORDER BY win"""
    return sql, names


def behaviour_rows(
    con: duckdb.DuckDBPyConnection, run_id: str, config: BehaviourConfig | None = None
) -> list[BehaviourRow]:
    """Per window and behaviour: responses, how many show it, share, mean tokens with and without.

    Windows without stored responses are absent; a run that stored none gives []."""
    config = config or BehaviourConfig()
    config.validate()
    if not con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchall():
        raise InputError(f"--behaviour {run_id}: no run with that id in this catalog")
    check_patterns(con, config)
    sql, names = _query(config)
    params: dict[str, Any] = {"run_id": run_id}
    for i, name in enumerate(names):
        params[f"pattern{i}"] = combined(config.patterns()[name])
    rows = []
    for window, first, last, *counts in con.execute(sql, params).fetchall():
        for i, name in enumerate(names):
            responses, showing, with_tokens, without_tokens = counts[4 * i : 4 * i + 4]
            rows.append(
                BehaviourRow(
                    run_id=run_id,
                    window=int(window),
                    first_step=first,
                    last_step=last,
                    behaviour=name,
                    scope="math" if name in MATH_ONLY else "all",
                    responses=int(responses),
                    showing=int(showing),
                    share=showing / responses if responses else 0.0,
                    mean_tokens_with=with_tokens,
                    mean_tokens_without=without_tokens,
                )
            )
    return rows
