"""Read side of the catalog: problem filters, free SQL, and the counts behind `stats`.

All functions take a read-only connection and return pyarrow tables (with the DuckDB type of
every column, so JSON columns can be decoded for JSONL output).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.catalog.records import DIFFICULTIES, DOMAINS, VERIFY_STATUSES
from srpo.errors import InputError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

UNRATED = "unrated"
DEFAULT_TABLE_COLUMNS = ("problem_id", "source", "split", "domain", "clean_status", "reject_reason",
                         "verify_status", "difficulty", "question")  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ProblemFilter:
    """Conjunction of filters; an empty tuple means no filter on that column."""

    domains: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    splits: tuple[str, ...] = ()
    status: str | None = None
    reasons: tuple[str, ...] = ()
    verify_statuses: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = ()
    limit: int | None = None

    def validate(self) -> None:
        _check("--domain", self.domains, DOMAINS)
        _check("--verify-status", self.verify_statuses, VERIFY_STATUSES)
        _check("--difficulty", self.difficulties, (*DIFFICULTIES, UNRATED))
        if self.status not in (None, "kept", "rejected"):
            raise InputError(f"--status must be kept or rejected, got {self.status!r}")
        if self.limit is not None and self.limit < 0:
            raise InputError("--limit must not be negative")


def scope_clauses(
    *, sources: Sequence[str], domains: Sequence[str], where: str | None
) -> tuple[list[str], list[Any]]:
    """The `--source`, `--domain` and `--where` conditions every problem selection shares."""
    _check("--domain", domains, DOMAINS)
    clauses: list[str] = []
    params: list[Any] = []
    for column, values in (("source", sources), ("domain", domains)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    if where:
        clauses.append(f"({where})")
    return clauses, params


def _check(option: str, values: Sequence[str], allowed: Sequence[str]) -> None:
    for value in values:
        if value not in allowed:
            raise InputError(f"{option}: unknown value {value!r}; choose from {', '.join(allowed)}")


def where_clause(problem_filter: ProblemFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []

    def any_of(column: str, values: Sequence[str]) -> None:
        if values:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)

    any_of("domain", problem_filter.domains)
    any_of("source", problem_filter.sources)
    any_of("split", problem_filter.splits)
    any_of("verify_status", problem_filter.verify_statuses)
    if problem_filter.status:
        any_of("clean_status", [problem_filter.status])
    for reason in problem_filter.reasons:  # a prefix such as "math" matches "math.proof"
        clauses.append("(reject_reason = ? OR reject_reason LIKE ?)")
        params.extend([reason, f"{reason}.%"])
    if problem_filter.difficulties:
        rated = [d for d in problem_filter.difficulties if d != UNRATED]
        parts = []
        if rated:
            parts.append(f"difficulty IN ({', '.join('?' for _ in rated)})")
            params.extend(rated)
        if UNRATED in problem_filter.difficulties:
            parts.append("difficulty IS NULL")
        clauses.append("(" + " OR ".join(parts) + ")")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


@dataclass(frozen=True, slots=True)
class Result:
    table: pa.Table
    types: dict[str, str]


def _result(relation: duckdb.DuckDBPyRelation) -> Result:
    types = {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}
    return Result(relation.to_arrow_table(), types)


def select_problems(
    con: duckdb.DuckDBPyConnection, problem_filter: ProblemFilter, columns: Sequence[str] | None = None
) -> Result:
    problem_filter.validate()
    known = {row[0] for row in con.execute("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_name = 'problems'").fetchall()}  # fmt: skip
    chosen = list(columns) if columns else None
    for column in chosen or ():
        if column not in known:
            raise InputError(f"--columns: no column {column!r} in problems; have {', '.join(sorted(known))}")
    where, params = where_clause(problem_filter)
    limit = f" LIMIT {int(problem_filter.limit)}" if problem_filter.limit is not None else ""
    select = ", ".join(f'"{c}"' for c in chosen) if chosen else "*"
    sql = f"SELECT {select} FROM problems{where} ORDER BY source, split, created_at, source_index{limit}"
    return _result(con.sql(sql, params=params))


def count_problems(con: duckdb.DuckDBPyConnection, problem_filter: ProblemFilter) -> int:
    where, params = where_clause(problem_filter)
    return con.execute(f"SELECT count(*) FROM problems{where}", params).fetchall()[0][0]


def run_sql(con: duckdb.DuckDBPyConnection, sql: str) -> Result:
    import duckdb

    try:
        relation = con.sql(sql)
    except duckdb.Error as error:
        raise InputError(f"--sql: {str(error).strip().splitlines()[0]}") from error
    if relation is None:
        raise InputError("--sql must be a query that returns rows (the catalog is opened read-only)")
    return _result(relation)


STATS_QUERIES = {
    "sources": """
        SELECT source, split, domain, count(*) AS rows,
               count(*) FILTER (clean_status = 'kept') AS kept,
               count(*) FILTER (clean_status = 'rejected') AS rejected,
               count(*) FILTER (verify_status = 'verified') AS verified
        FROM problems GROUP BY ALL ORDER BY source, split, domain""",
    "reasons": """
        SELECT domain, reject_reason AS reason, count(*) AS rows FROM problems
        WHERE clean_status = 'rejected' GROUP BY ALL ORDER BY rows DESC, reason""",
    "verification": """
        SELECT domain, verify_status, count(*) AS rows FROM problems
        WHERE clean_status = 'kept' GROUP BY ALL ORDER BY domain, verify_status""",
    "difficulty": """
        SELECT source, domain,
               count(*) FILTER (difficulty = 'easy') AS easy,
               count(*) FILTER (difficulty = 'medium') AS medium,
               count(*) FILTER (difficulty = 'hard') AS hard,
               count(*) FILTER (difficulty IS NULL) AS unrated,
               round(avg(pass_rate), 3) AS mean_pass_rate
        FROM problems WHERE clean_status = 'kept' GROUP BY ALL ORDER BY source, domain""",
    "invalid": """
        SELECT source, coalesce(field, '(row)') AS field, error, count(*) AS rows FROM invalid_rows
        GROUP BY ALL ORDER BY rows DESC LIMIT 20""",
}


def stats(con: duckdb.DuckDBPyConnection) -> dict[str, Result]:
    return {name: _result(con.sql(sql)) for name, sql in STATS_QUERIES.items()}
