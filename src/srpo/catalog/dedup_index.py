"""The duplicate and contamination indexes (`dedup_index`, `lsh_buckets`, `benchmark_ngrams`,
`catalog_settings`: the tables of migration 0002).

The callers (curate.dedup, curate.decontam) hold a writer connection for one batch; this
module only moves rows: index entries and LSH buckets in, candidate keys and candidate rows out,
status updates for problems that lose to a duplicate or match a benchmark.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from srpo.catalog.records import utcnow

if TYPE_CHECKING:
    import duckdb

Key = tuple[str, str, str]


class Fingerprint(Protocol):
    """What the index stores of a problem (`srpo.curate.fingerprint.Fingerprint` has it): the
    catalog only moves these values, it does not compute them."""

    key: Key
    domain: str
    exact_key: str
    question_key: str
    numbers: str
    buckets: list[int]


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


def insert_fingerprints(
    con: duckdb.DuckDBPyConnection, fingerprints: Sequence[Fingerprint], *, may_exist: bool = False
) -> None:
    """Index entries and LSH buckets, built as columns (one Arrow array per column, no row dicts).

    New problems are simply appended; `may_exist` (re-indexing a benchmark) skips the ones the
    index already holds, at the cost of an anti-join against all buckets.
    """
    import numpy as np
    import pyarrow as pa

    if not fingerprints:
        return
    keys = {name: pa.array([f.key[i] for f in fingerprints], pa.string())
            for i, name in enumerate(("source", "split", "source_index"))}  # fmt: skip
    domains = pa.array([f.domain for f in fingerprints], pa.string())
    con.register("srpo_index", pa.table({
        **keys, "domain": domains,
        "exact_key": pa.array([f.exact_key for f in fingerprints], pa.string()),
        "question_key": pa.array([f.question_key for f in fingerprints], pa.string()),
        "numbers": pa.array([f.numbers for f in fingerprints], pa.string()),
    }))  # fmt: skip
    bands = len(fingerprints[0].buckets)
    owner = pa.array(np.repeat(np.arange(len(fingerprints)), bands))
    con.register("srpo_buckets", pa.table({
        "domain": domains.take(owner),
        "band": pa.array(np.tile(np.arange(bands, dtype=np.int16), len(fingerprints))),
        "bucket": pa.array(_bucket_column(fingerprints)),
        **{name: column.take(owner) for name, column in keys.items()},
    }))  # fmt: skip
    try:
        con.execute("INSERT INTO dedup_index BY NAME SELECT * FROM srpo_index ON CONFLICT DO NOTHING")
        if may_exist:
            con.execute(
                "INSERT INTO lsh_buckets BY NAME SELECT b.* FROM srpo_buckets b WHERE NOT EXISTS ("
                "SELECT 1 FROM lsh_buckets l WHERE l.source = b.source AND l.split = b.split "
                "AND l.source_index = b.source_index AND l.band = b.band)"
            )
        else:
            con.execute("INSERT INTO lsh_buckets BY NAME SELECT * FROM srpo_buckets")
    finally:
        con.unregister("srpo_index")
        con.unregister("srpo_buckets")


def _bucket_column(fingerprints: Sequence[Fingerprint]) -> Any:
    """Every fingerprint's buckets, one after the other (one numpy call, not one per fingerprint)."""
    import numpy as np

    return np.array([f.buckets for f in fingerprints], dtype=np.uint64).ravel()


def _register_probes(con: duckdb.DuckDBPyConnection, fingerprints: Sequence[Fingerprint]) -> None:
    import numpy as np
    import pyarrow as pa

    domains = pa.array([f.domain for f in fingerprints], pa.string())
    positions = np.arange(len(fingerprints), dtype=np.int64)
    con.register("srpo_probe", pa.table({
        "ord": pa.array(positions), "domain": domains,
        "question_key": pa.array([f.question_key for f in fingerprints], pa.string()),
    }))  # fmt: skip
    bands = len(fingerprints[0].buckets)
    owner = np.repeat(positions, bands)
    con.register("srpo_probe_bands", pa.table({
        "ord": pa.array(owner), "domain": domains.take(pa.array(owner)),
        "band": pa.array(np.tile(np.arange(bands, dtype=np.int16), len(fingerprints))),
        "bucket": pa.array(_bucket_column(fingerprints)),
    }))  # fmt: skip


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
    exact_key: str | None = None  # from the index, when the problem is indexed
    question_key: str | None = None
    numbers: str | None = None


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
                   p.difficulty IS NOT NULL
                       OR EXISTS (SELECT 1 FROM rollouts r WHERE r.problem_id = p.problem_id),
                   p.created_at, p.benchmark, d.exact_key, d.question_key, d.numbers
            FROM problems p JOIN srpo_keys k USING (source, split, source_index)
            LEFT JOIN dedup_index d USING (source, split, source_index)
            """
        ).fetchall()
    finally:
        con.unregister("srpo_keys")
    return {(r[0], r[1], r[2]): StoredProblem((r[0], r[1], r[2]), *r[3:]) for r in found}


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
            "UPDATE problems SET dup_of = ?, updated_at = ? "
            "WHERE dup_of = ? AND reject_reason LIKE 'dedup.%'",
            [new, utcnow(), old],
        )
