"""Difficulty ratings in the catalog: which problems a difficulty run rates, and their ratings.

A difficulty run (`srpo-curate difficulty`) selects problems a page at a time by `problem_id`
with a key cursor, skipping those that already have rollouts in the run, so a run killed
between two batches resumes exactly where it stopped. One batch's rollouts and its problems'
ratings are written in the same transaction (inside the caller's `Catalog.writer()`), so a
problem is either fully rated in a run or not at all.

Covers: selecting problems to rate, writing `pass_rate` / `pass_at_k` / `difficulty`, ratings
taken from a source's own difficulty field. Does not cover: sampling, grading or the pass@k
numbers (`srpo.curate.difficulty`, `srpo.curate.passk`), the run row (`runs`), the samples
(`rollouts`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.catalog.queries import scope_clauses
from srpo.catalog.records import utcnow
from srpo.errors import InputError

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True, kw_only=True)
class RateSelection:
    """Which problems a difficulty run rates: kept ones, by default verified and not yet rated."""

    sources: tuple[str, ...] = ()
    """Only these sources (empty: all)."""
    domains: tuple[str, ...] = ()
    """Only these domains (empty: math and code)."""
    where: str | None = None
    """Extra SQL condition over `problems`, e.g. "split = 'train'"."""
    include_pending: bool = False
    """Also problems whose gold is not verified yet (verify_status pending)."""
    rerate: bool = False
    """Also problems that already have a difficulty (they are overwritten)."""

    def validate(self) -> None:
        scope_clauses(sources=self.sources, domains=self.domains, where=self.where)

    def sql(self) -> tuple[str, list[Any]]:
        statuses = ["verified", "pending"] if self.include_pending else ["verified"]
        clauses = ["clean_status = 'kept'", f"verify_status IN ({', '.join('?' for _ in statuses)})"]
        params: list[Any] = list(statuses)
        if not self.rerate:
            clauses.append("difficulty IS NULL")
        scope, scope_params = scope_clauses(sources=self.sources, domains=self.domains, where=self.where)
        return " AND ".join(clauses + scope), params + scope_params


@dataclass(frozen=True, slots=True)
class ProblemToRate:
    problem_id: str
    domain: str
    question: str
    answer: str | None
    tests: str | None  # JSON, the shared code test format
    metadata: str | None  # JSON


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[tuple]:
    import duckdb

    try:
        return con.execute(sql, params).fetchall()
    except duckdb.Error as error:
        raise InputError(f"--where: {str(error).strip().splitlines()[0]}") from error


def _candidates(selection: RateSelection, run_id: str) -> tuple[str, list[Any]]:
    """One row per problem_id (the same question in two sources is rated once): verified
    occurrences first, then by source name. Problems with rollouts in this run are left out."""
    where, params = selection.sql()
    sql = (
        "SELECT problem_id, domain, question, answer, tests, metadata FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY problem_id"
        "    ORDER BY verify_status = 'verified' DESC, source, split, source_index) AS rank"
        f"  FROM problems WHERE {where}"
        ") WHERE rank = 1 AND problem_id NOT IN (SELECT problem_id FROM rollouts WHERE run_id = ?)"
    )
    return sql, [*params, run_id]


def count_to_rate(con: duckdb.DuckDBPyConnection, selection: RateSelection, *, run_id: str) -> int:
    sql, params = _candidates(selection, run_id)
    return _run(con, f"SELECT count(*) FROM ({sql})", params)[0][0]


def select_to_rate(
    con: duckdb.DuckDBPyConnection, selection: RateSelection, *, run_id: str, after: str | None, size: int
) -> list[ProblemToRate]:
    """The next `size` problems whose id sorts after `after`. Ids are hashes, so pages (and a
    `--limit`) mix sources and domains instead of taking the first source first."""
    sql, params = _candidates(selection, run_id)
    if after is not None:
        sql += " AND problem_id > ?"
        params = [*params, after]
    rows = _run(con, f"{sql} ORDER BY problem_id LIMIT {int(size)}", params)
    return [ProblemToRate(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class StoredRating:
    problem_id: str
    pass_rate: float
    pass_at_k: dict[str, float]
    difficulty: str


def write_ratings(con: duckdb.DuckDBPyConnection, ratings: Sequence[StoredRating]) -> int:
    """Set pass_rate, pass_at_k and difficulty on every kept occurrence of each problem."""
    import pyarrow as pa

    if not ratings:
        return 0
    table = pa.table(
        {
            "problem_id": [r.problem_id for r in ratings],
            "pass_rate": pa.array([r.pass_rate for r in ratings], pa.float64()),
            "pass_at_k": [json.dumps(r.pass_at_k) for r in ratings],
            "difficulty": [r.difficulty for r in ratings],
        }
    )
    con.register("srpo_ratings", table)
    try:
        con.execute(
            "UPDATE problems SET pass_rate = r.pass_rate, pass_at_k = r.pass_at_k, "
            "difficulty = r.difficulty, updated_at = ? FROM srpo_ratings r "
            "WHERE problems.problem_id = r.problem_id AND problems.clean_status = 'kept'",
            [utcnow()],
        )
    finally:
        con.unregister("srpo_ratings")
    return len(ratings)


def rate_from_source(
    con: duckdb.DuckDBPyConnection, source: str, *, low: float, high: float, below_low: str, from_high: str
) -> int:
    """Set `difficulty` from `metadata.source_difficulty` on a source's kept, unrated problems;
    returns the rows set. `below_low` / `from_high` name the buckets outside [low, high)."""
    value = "TRY_CAST(json_extract_string(metadata, '$.source_difficulty') AS DOUBLE)"
    rows = con.execute(
        f"UPDATE problems SET difficulty = CASE WHEN {value} < ? THEN ? WHEN {value} >= ? THEN ? "
        f"ELSE 'medium' END, updated_at = ? WHERE source = ? AND clean_status = 'kept' "
        f"AND difficulty IS NULL AND {value} IS NOT NULL",
        [low, below_low, high, from_high, utcnow(), source],
    ).fetchall()
    return int(rows[0][0]) if rows else 0
