"""What the report shows of the catalog itself, as rows ready to draw (no charting here).

Per source: rows kept and rejected by reason (plus benchmark rows, and rows that could not be
read at all, from `invalid_rows`); verification status of the kept problems; duplicates (which
source holds the copy that was kept) and contamination (which benchmark a problem leaks);
difficulty and pass rate per source and domain. All from one read-only connection.

Covers: the SQL and the row shapes. Does not cover: training runs (`run_data`) or charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

Rows = list[dict[str, Any]]

KEPT = "kept"
BENCHMARK = "benchmark (evaluation only)"
UNREADABLE = "unreadable row"
# Pass-rate bins on the difficulty thresholds' grid: 0 and 1 apart (all wrong, all right:
# groups that give GRPO no gradient), then fifths.
PASS_RATE_BINS = ("0", "(0, 0.2)", "[0.2, 0.4)", "[0.4, 0.6)", "[0.6, 0.8)", "[0.8, 1)", "1")
DIFFICULTY_ORDER = ("easy", "medium", "hard", "unrated")

_OUTCOMES = f"""
SELECT source, CASE WHEN benchmark IS NOT NULL THEN '{BENCHMARK}'
                    WHEN clean_status = 'kept' THEN '{KEPT}' ELSE reject_reason END AS outcome,
       count(*) AS rows
FROM problems GROUP BY ALL
UNION ALL
SELECT source, '{UNREADABLE}' AS outcome, count(*) AS rows FROM invalid_rows GROUP BY ALL
ORDER BY source, rows DESC"""

_VERIFICATION = """
SELECT source, domain, verify_status AS status, count(*) AS rows FROM problems
WHERE clean_status = 'kept' AND benchmark IS NULL GROUP BY ALL ORDER BY source, domain, status"""

_DUPLICATES = """
WITH kept AS (
    SELECT problem_id, min(source) AS source FROM problems
    WHERE clean_status = 'kept' AND benchmark IS NULL GROUP BY problem_id
)
SELECT p.source, coalesce(k.source, '(no kept copy)') AS kept_in, p.reject_reason AS kind, count(*) AS rows
FROM problems p LEFT JOIN kept k ON p.dup_of = k.problem_id
WHERE p.reject_reason LIKE 'dedup.%' GROUP BY ALL ORDER BY p.source, kept_in, kind"""

# contaminated_with is the benchmark problem's id; its row names the benchmark.
_CONTAMINATION = """
WITH named AS (SELECT problem_id, min(benchmark) AS benchmark FROM problems
               WHERE benchmark IS NOT NULL GROUP BY problem_id)
SELECT p.source, coalesce(n.benchmark, p.contaminated_with) AS benchmark, count(*) AS rows
FROM problems p LEFT JOIN named n ON p.contaminated_with = n.problem_id
WHERE p.contaminated_with IS NOT NULL AND p.benchmark IS NULL GROUP BY ALL ORDER BY p.source, benchmark"""

_DIFFICULTY = """
SELECT source, domain, coalesce(difficulty, 'unrated') AS difficulty, count(*) AS rows FROM problems
WHERE clean_status = 'kept' AND benchmark IS NULL GROUP BY ALL ORDER BY source, domain"""

_PASS_RATE = """
SELECT source, domain,
       CASE WHEN pass_rate <= 0 THEN 0 WHEN pass_rate >= 1 THEN 6
            ELSE 1 + least(floor(pass_rate * 5), 4) END AS bin,
       count(*) AS rows
FROM problems WHERE clean_status = 'kept' AND benchmark IS NULL AND pass_rate IS NOT NULL
GROUP BY ALL ORDER BY source, domain, bin"""

_TOTALS = """
SELECT count(*), count(*) FILTER (clean_status = 'kept' AND benchmark IS NULL),
       count(*) FILTER (clean_status = 'rejected'), count(*) FILTER (benchmark IS NOT NULL),
       (SELECT count(*) FROM invalid_rows), count(DISTINCT source)
FROM problems"""


@dataclass(frozen=True, slots=True)
class CatalogTotals:
    problems: int
    kept: int
    rejected: int
    benchmark: int
    unreadable: int
    sources: int


@dataclass(frozen=True, slots=True)
class CatalogData:
    """The catalog's figures' rows (each a list of plain dicts, one per bar or cell)."""

    totals: CatalogTotals
    outcomes: Rows
    """source, outcome (kept, a reject reason, benchmark, unreadable row), rows."""
    verification: Rows
    """source, domain, status, rows (kept problems)."""
    duplicates: Rows
    """source, kept_in (the source of the copy kept), kind (dedup.exact / dedup.near), rows."""
    contamination: Rows
    """source, benchmark, rows."""
    difficulty: Rows
    """source, domain, difficulty (easy, medium, hard, unrated), rows (kept problems)."""
    pass_rate: Rows
    """source, domain, bin (a PASS_RATE_BINS label), order, rows, share (of the rated problems)."""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    relation = con.sql(sql)
    names = relation.columns
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def read_catalog(con: duckdb.DuckDBPyConnection) -> CatalogData:
    [totals] = con.execute(_TOTALS).fetchall()
    pass_rate = _rows(con, _PASS_RATE)
    rated: dict[tuple[str, str], int] = {}
    for row in pass_rate:
        key = (row["source"], row["domain"])
        rated[key] = rated.get(key, 0) + row["rows"]
    for row in pass_rate:
        order = int(row.pop("bin"))
        row["bin"], row["order"] = PASS_RATE_BINS[order], order
        row["share"] = row["rows"] / rated[(row["source"], row["domain"])]
    return CatalogData(
        totals=CatalogTotals(*(int(value) for value in totals)),
        outcomes=_rows(con, _OUTCOMES),
        verification=_rows(con, _VERIFICATION),
        duplicates=_rows(con, _DUPLICATES),
        contamination=_rows(con, _CONTAMINATION),
        difficulty=_rows(con, _DIFFICULTY),
        pass_rate=pass_rate,
    )
