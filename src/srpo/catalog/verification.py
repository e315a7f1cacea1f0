"""Reading problems to verify and writing verification results, in short transactions.

`select_batch` pages through the problems a `VerifySelection` picks with a key cursor
(source, split, source_index), so results written between two pages never shift the next page,
and a run killed half-way resumes with the problems still pending. `write_results` updates
`verify_status` / `verify_reason` for one batch inside the caller's `Catalog.writer()`.
`golds_for` looks up gold answers by `problem_id` for `srpo-curate grade`.

Covers: the SQL of verification. Does not cover: the checks themselves (see `srpo.verify`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.catalog.queries import scope_clauses
from srpo.catalog.records import VERIFY_STATUSES, utcnow
from srpo.errors import InputError

if TYPE_CHECKING:
    import duckdb

Key = tuple[str, str, str]  # (source, split, source_index)


@dataclass(frozen=True, kw_only=True)
class VerifySelection:
    """Which problems a verification run looks at."""

    sources: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    where: str | None = None
    """Extra SQL condition over `problems`, e.g. "metadata->>'level' = '5'"."""
    limit: int | None = None
    recheck: bool = False
    """Also problems already verified (else only `pending` ones)."""
    include_rejected: bool = False
    """Also problems the cleaning pipeline rejected (else kept ones only)."""

    def validate(self) -> None:
        scope_clauses(sources=self.sources, domains=self.domains, where=self.where)
        if self.limit is not None and self.limit < 0:
            raise InputError("--limit must not be negative")

    def sql(self) -> tuple[str, list[Any]]:
        clauses = [] if self.include_rejected else ["clean_status = 'kept'"]
        params: list[Any] = []
        if not self.recheck:
            clauses.append("verify_status = 'pending'")
        scope, scope_params = scope_clauses(sources=self.sources, domains=self.domains, where=self.where)
        return " AND ".join(clauses + scope) or "TRUE", params + scope_params


@dataclass(frozen=True, slots=True)
class ProblemToVerify:
    key: Key
    problem_id: str
    domain: str
    question: str
    answer: str | None
    solution: str | None
    tests: str | None = None  # code problems: the test JSON


@dataclass(frozen=True, slots=True)
class VerificationResult:
    key: Key
    status: str
    reason: str


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[tuple]:
    import duckdb

    try:
        return con.execute(sql, params).fetchall()
    except duckdb.Error as error:
        raise InputError(f"--where: {str(error).strip().splitlines()[0]}") from error


def count_selected(con: duckdb.DuckDBPyConnection, selection: VerifySelection) -> int:
    selection.validate()
    where, params = selection.sql()
    count = _run(con, f"SELECT count(*) FROM problems WHERE {where}", params)[0][0]
    return min(count, selection.limit) if selection.limit is not None else count


def select_batch(
    con: duckdb.DuckDBPyConnection, selection: VerifySelection, *, after: Key | None, size: int
) -> list[ProblemToVerify]:
    """The next `size` selected problems whose key sorts after `after`."""
    where, params = selection.sql()
    if after is not None:
        where += " AND (source, split, source_index) > (?, ?, ?)"
        params = [*params, *after]
    rows = _run(
        con,
        "SELECT source, split, source_index, problem_id, domain, question, answer, solution, tests "
        f"FROM problems WHERE {where} ORDER BY source, split, source_index LIMIT {int(size)}",
        params,
    )
    return [ProblemToVerify((r[0], r[1], r[2]), *r[3:]) for r in rows]


def write_results(con: duckdb.DuckDBPyConnection, results: Sequence[VerificationResult]) -> int:
    """Store one batch of results (inside `Catalog.writer()`); returns the rows updated."""
    import pyarrow as pa

    for result in results:
        if result.status not in VERIFY_STATUSES:
            raise ValueError(f"unknown verify status {result.status!r}")
    if not results:
        return 0
    table = pa.table(
        {
            "source": [r.key[0] for r in results],
            "split": [r.key[1] for r in results],
            "source_index": [r.key[2] for r in results],
            "verify_status": [r.status for r in results],
            "verify_reason": [r.reason for r in results],
        }
    )
    con.register("srpo_verified", table)
    try:
        con.execute(
            "UPDATE problems SET verify_status = v.verify_status, verify_reason = v.verify_reason, "
            "updated_at = ? FROM srpo_verified v WHERE problems.source = v.source "
            "AND problems.split = v.split AND problems.source_index = v.source_index",
            [utcnow()],
        )
    finally:
        con.unregister("srpo_verified")
    return len(results)


@dataclass(frozen=True, slots=True)
class StoredGold:
    domain: str
    answer: str | None
    tests: str | None  # JSON in the shared test format


def golds_for(con: duckdb.DuckDBPyConnection, problem_ids: Sequence[str]) -> dict[str, StoredGold]:
    """Gold answer (and tests) per problem_id. The same question can occur in several sources:
    kept rows win over rejected ones, verified over unverified, then the first source by name."""
    if not problem_ids:
        return {}
    rows = con.execute(
        "SELECT problem_id, domain, answer, tests FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY problem_id"
        "    ORDER BY clean_status = 'kept' DESC, verify_status = 'verified' DESC,"
        "    source, split, source_index) AS rank"
        "  FROM problems WHERE problem_id IN (SELECT unnest(?))"
        ") WHERE rank = 1",
        [list(dict.fromkeys(problem_ids))],
    ).fetchall()
    return {pid: StoredGold(domain, answer, tests) for pid, domain, answer, tests in rows}
