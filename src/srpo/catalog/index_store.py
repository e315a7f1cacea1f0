"""Reads and writes of the duplicate / contamination indexes (tables of migration 0002).

The callers (curate.dedup, curate.decontam) hold a writer connection for one batch; this
module only moves rows: index entries and LSH buckets in, candidate keys and candidate rows out,
status updates for problems that lose to a duplicate or match a benchmark.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.catalog.records import utcnow

if TYPE_CHECKING:
    import duckdb

    from srpo.curate.fingerprint import Fingerprint

Key = tuple[str, str, str]


def _register(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]], schema: Any) -> None:
    import pyarrow as pa

    con.register(name, pa.Table.from_pylist(rows, schema=schema))


def _schema(**columns: Any) -> Any:
    import pyarrow as pa

    return pa.schema(list(columns.items()))


# ----------------------------------------------------------------------------------- settings


def get_setting(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, Any] | None:
    found = con.execute("SELECT value FROM catalog_settings WHERE key = ?", [key]).fetchall()
    return json.loads(found[0][0]) if found else None


def set_setting(con: duckdb.DuckDBPyConnection, key: str, value: dict[str, Any]) -> None:
    con.execute("DELETE FROM catalog_settings WHERE key = ?", [key])
    con.execute("INSERT INTO catalog_settings VALUES (?, ?)", [key, json.dumps(value, sort_keys=True)])


def clear_settings(con: duckdb.DuckDBPyConnection, key: str) -> None:
    con.execute("DELETE FROM catalog_settings WHERE key = ?", [key])


# -------------------------------------------------------------------------------- dedup index


def insert_fingerprints(con: duckdb.DuckDBPyConnection, fingerprints: Sequence[Fingerprint]) -> None:
    import pyarrow as pa

    if not fingerprints:
        return
    index_rows = [
        {"source": f.key[0], "split": f.key[1], "source_index": f.key[2], "domain": f.domain,
         "exact_key": f.exact_key, "question_key": f.question_key, "numbers": f.numbers}
        for f in fingerprints
    ]  # fmt: skip
    _register(con, "srpo_index", index_rows, _schema(
        source=pa.string(), split=pa.string(), source_index=pa.string(), domain=pa.string(),
        exact_key=pa.string(), question_key=pa.string(), numbers=pa.string(),
    ))  # fmt: skip
    bucket_rows = [
        {"domain": f.domain, "band": band, "bucket": bucket, "source": f.key[0], "split": f.key[1],
         "source_index": f.key[2]}
        for f in fingerprints for band, bucket in enumerate(f.buckets)
    ]  # fmt: skip
    _register(con, "srpo_buckets", bucket_rows, _schema(
        domain=pa.string(), band=pa.int16(), bucket=pa.uint64(), source=pa.string(), split=pa.string(),
        source_index=pa.string(),
    ))  # fmt: skip
    try:
        con.execute("INSERT INTO dedup_index BY NAME SELECT * FROM srpo_index ON CONFLICT DO NOTHING")
        con.execute(
            "INSERT INTO lsh_buckets BY NAME SELECT b.* FROM srpo_buckets b WHERE NOT EXISTS ("
            "SELECT 1 FROM lsh_buckets l WHERE l.source = b.source AND l.split = b.split "
            "AND l.source_index = b.source_index AND l.band = b.band)"
        )
    finally:
        con.unregister("srpo_index")
        con.unregister("srpo_buckets")


def _register_probes(con: duckdb.DuckDBPyConnection, fingerprints: Sequence[Fingerprint]) -> None:
    import pyarrow as pa

    probes = [
        {"ord": i, "domain": f.domain, "question_key": f.question_key} for i, f in enumerate(fingerprints)
    ]
    _register(
        con, "srpo_probe", probes, _schema(ord=pa.int64(), domain=pa.string(), question_key=pa.string())
    )
    bands = [
        {"ord": i, "domain": f.domain, "band": band, "bucket": bucket}
        for i, f in enumerate(fingerprints) for band, bucket in enumerate(f.buckets)
    ]  # fmt: skip
    _register(con, "srpo_probe_bands", bands, _schema(
        ord=pa.int64(), domain=pa.string(), band=pa.int16(), bucket=pa.uint64()
    ))  # fmt: skip


def candidate_keys(
    con: duckdb.DuckDBPyConnection, fingerprints: Sequence[Fingerprint], *, benchmarks: bool
) -> list[tuple[int, Key]]:
    """(fingerprint position, key) of stored problems sharing a question key or an LSH bucket.

    With `benchmarks=False` only kept training problems are candidates (duplicates); with
    `benchmarks=True` only benchmark problems (contamination).
    """
    if not fingerprints:
        return []
    role = "p.benchmark IS NOT NULL" if benchmarks else "p.benchmark IS NULL AND p.clean_status = 'kept'"
    _register_probes(con, fingerprints)
    try:
        found = con.execute(
            f"""
            SELECT DISTINCT c.ord, c.source, c.split, c.source_index FROM (
                SELECT f.ord, d.source, d.split, d.source_index FROM srpo_probe f
                JOIN dedup_index d ON d.domain = f.domain AND d.question_key = f.question_key
                UNION ALL
                SELECT b.ord, l.source, l.split, l.source_index FROM srpo_probe_bands b
                JOIN lsh_buckets l ON l.domain = b.domain AND l.band = b.band AND l.bucket = b.bucket
            ) c JOIN problems p USING (source, split, source_index) WHERE {role}
            ORDER BY c.ord, c.source, c.split, c.source_index
            """
        ).fetchall()
    finally:
        con.unregister("srpo_probe")
        con.unregister("srpo_probe_bands")
    return [(ord_, (source, split, index)) for ord_, source, split, index in found]


@dataclass(frozen=True, slots=True)
class StoredProblem:
    """What duplicate resolution needs to know about a stored problem."""

    key: Key
    problem_id: str
    domain: str
    question: str
    answer: str | None
    has_solution: bool
    verified: bool
    used: bool  # has rollouts or a difficulty: its status must not move
    created_at: Any
    benchmark: str | None


def fetch_problems(con: duckdb.DuckDBPyConnection, keys: Iterable[Key]) -> dict[Key, StoredProblem]:
    import pyarrow as pa

    rows = [{"source": s, "split": sp, "source_index": i} for s, sp, i in set(keys)]
    if not rows:
        return {}
    _register(
        con, "srpo_keys", rows, _schema(source=pa.string(), split=pa.string(), source_index=pa.string())
    )
    try:
        found = con.execute(
            """
            SELECT p.source, p.split, p.source_index, p.problem_id, p.domain, p.question, p.answer,
                   p.solution IS NOT NULL AND p.solution <> '', p.verify_status = 'verified',
                   p.difficulty IS NOT NULL OR EXISTS (SELECT 1 FROM rollouts r WHERE r.problem_id = p.problem_id),
                   p.created_at, p.benchmark
            FROM problems p JOIN srpo_keys k USING (source, split, source_index)
            """
        ).fetchall()
    finally:
        con.unregister("srpo_keys")
    return {
        (r[0], r[1], r[2]): StoredProblem(
            (r[0], r[1], r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]
        )
        for r in found
    }


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    key: Key
    reason: str
    dup_of: str | None = None
    contaminated_with: str | None = None
    note: dict[str, Any] | None = None
    reject: bool = True


def apply_updates(con: duckdb.DuckDBPyConnection, updates: Sequence[StatusUpdate]) -> None:
    """Reject problems (or only record their contamination) in one statement."""
    import pyarrow as pa

    if not updates:
        return
    rows = [
        {"source": u.key[0], "split": u.key[1], "source_index": u.key[2], "reason": u.reason,
         "dup_of": u.dup_of, "contaminated_with": u.contaminated_with, "reject": u.reject,
         "note": json.dumps(u.note or {})}
        for u in updates
    ]  # fmt: skip
    _register(con, "srpo_updates", rows, _schema(
        source=pa.string(), split=pa.string(), source_index=pa.string(), reason=pa.string(),
        dup_of=pa.string(), contaminated_with=pa.string(), reject=pa.bool_(), note=pa.string(),
    ))  # fmt: skip
    try:
        con.execute(
            """
            UPDATE problems SET
                clean_status = CASE WHEN u.reject THEN 'rejected' ELSE problems.clean_status END,
                reject_reason = CASE WHEN u.reject THEN u.reason ELSE problems.reject_reason END,
                dup_of = coalesce(u.dup_of, problems.dup_of),
                contaminated_with = coalesce(u.contaminated_with, problems.contaminated_with),
                metadata = json_merge_patch(coalesce(problems.metadata, '{}'), u.note::JSON),
                updated_at = ?
            FROM srpo_updates u
            WHERE problems.source = u.source AND problems.split = u.split
              AND problems.source_index = u.source_index
            """,
            [utcnow()],
        )
    finally:
        con.unregister("srpo_updates")


def repoint_duplicates(con: duckdb.DuckDBPyConnection, *, old: str, new: str) -> None:
    """Duplicates of a superseded representative now point at the one that replaced it."""
    if old != new:
        con.execute(
            "UPDATE problems SET dup_of = ?, updated_at = ? WHERE dup_of = ? AND reject_reason LIKE 'dedup.%'",
            [new, utcnow(), old],
        )
