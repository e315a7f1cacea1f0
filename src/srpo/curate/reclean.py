"""`srpo-curate clean`: re-run cleaning, deduplication and decontamination over the catalog.

For after a rule or a setting changed. Every problem starts again from its raw question
(`metadata.question_raw` when the normaliser changed it), goes through the stages again, and the
duplicate index is rebuilt from scratch in the order problems first arrived, so representatives
are chosen exactly as a fresh ingest of the same data would choose them. Benchmarks are
re-indexed first, so contamination is checked with the current n-gram length. Verification,
difficulty and rollouts are untouched; a problem whose question text changes gets a new
problem_id (the report counts the ones that already had rollouts).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srpo.catalog import dedup_index
from srpo.catalog.connection import Catalog
from srpo.catalog.records import Problem, utcnow
from srpo.catalog.testspec import parse_tests
from srpo.curate import decontam, dedup
from srpo.curate.config import CleaningConfig
from srpo.curate.fingerprint import fingerprints
from srpo.curate.pipeline import build_pipeline

if TYPE_CHECKING:
    import duckdb

CLEAN_BATCH = 5000
_COLUMNS = ("source", "split", "source_index", "domain", "question", "answer", "solution", "tests",
            "metadata", "clean_status", "problem_id", "verify_status")  # fmt: skip
_RESET_KEYS = ("question_raw", "normalised", "also_rejected_by", "dedup", "decontam")


@dataclass(slots=True)
class CleanReport:
    problems: int = 0
    benchmarks: int = 0
    now_rejected: int = 0  # kept before, rejected now
    now_kept: int = 0  # rejected before, kept now
    ids_changed: int = 0
    ids_changed_with_history: int = 0
    stage_counts: dict[str, Any] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (dataclasses.asdict would rebuild the Counter from its items)."""
        return {
            "problems": self.problems, "benchmarks": self.benchmarks, "now_rejected": self.now_rejected,
            "now_kept": self.now_kept, "ids_changed": self.ids_changed,
            "ids_changed_with_history": self.ids_changed_with_history, "stage_counts": self.stage_counts,
            "rejected": dict(self.rejected),
        }  # fmt: skip


def _problem(row: tuple) -> tuple[Problem, str]:
    values = dict(zip(_COLUMNS, row, strict=True))
    metadata = json.loads(values["metadata"]) if values["metadata"] else {}
    question = metadata.get("question_raw", values["question"])
    for key in _RESET_KEYS:
        metadata.pop(key, None)
    problem = Problem(
        source=values["source"], split=values["split"], source_index=values["source_index"],
        domain=values["domain"], question=question, answer=values["answer"], solution=values["solution"],
        tests=parse_tests(values["tests"]) if values["tests"] else None, metadata=metadata, row_hash="",
        verify_status=values["verify_status"], problem_id=values["problem_id"],
    )  # fmt: skip
    return problem, values["clean_status"]


def _rewrite(con: duckdb.DuckDBPyConnection, problems: list[Problem]) -> None:
    import pyarrow as pa

    rows = [
        {"source": p.source, "split": p.split, "source_index": p.source_index, "problem_id": p.problem_id,
         "question": p.question, "metadata": json.dumps(p.metadata, ensure_ascii=False, default=str),
         "clean_status": p.clean_status, "reject_reason": p.reject_reason, "dup_of": p.dup_of,
         "contaminated_with": p.contaminated_with}
        for p in problems
    ]  # fmt: skip
    con.register("srpo_clean", pa.Table.from_pylist(rows))
    try:
        con.execute(
            """
            UPDATE problems SET problem_id = c.problem_id, question = c.question, metadata = c.metadata::JSON,
                clean_status = c.clean_status, reject_reason = c.reject_reason, dup_of = c.dup_of,
                contaminated_with = c.contaminated_with, updated_at = ?
            FROM srpo_clean c WHERE problems.source = c.source AND problems.split = c.split
              AND problems.source_index = c.source_index
            """,
            [utcnow()],
        )
    finally:
        con.unregister("srpo_clean")


def _used_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("SELECT DISTINCT problem_id FROM rollouts").fetchall()}


def _reset_indexes(catalog: Catalog, config: CleaningConfig) -> list[tuple]:
    from srpo.curate.ingest import use_index_settings

    with catalog.writer() as con:
        con.execute("DELETE FROM dedup_index")
        con.execute("DELETE FROM lsh_buckets")
        dedup_index.clear_settings(con, "dedup_index")
        use_index_settings(con, config)
        return con.execute("SELECT name, source, split FROM benchmarks ORDER BY name").fetchall()


def _clean_chunk(
    con: duckdb.DuckDBPyConnection,
    rows: list[tuple],
    config: CleaningConfig,
    report: CleanReport,
    used: set[str],
) -> None:
    pipeline = build_pipeline(config)
    pairs = [_problem(row) for row in rows]
    problems = [p for p, _ in pairs]
    old_ids = [p.problem_id for p in problems]
    pipeline.run(problems)
    kept = [p for p in problems if p.clean_status == "kept"]
    if kept and config.dedup.enabled:
        prints = fingerprints(kept, config.dedup)
        report.rejected.update(decontam.check_batch(con, kept, prints, config))
        still = [(p, f) for p, f in zip(kept, prints, strict=True) if p.clean_status == "kept"]
        result = dedup.deduplicate(con, [p for p, _ in still], [f for _, f in still], config.dedup)
        report.rejected.update(result.rejected)
    _rewrite(con, problems)
    for (problem, before), old_id in zip(pairs, old_ids, strict=True):
        report.now_rejected += before == "kept" and problem.clean_status == "rejected"
        report.now_kept += before == "rejected" and problem.clean_status == "kept"
        if problem.problem_id != old_id:
            report.ids_changed += 1
            report.ids_changed_with_history += old_id in used
        if problem.clean_status == "rejected" and not problem.reject_reason.startswith(
            ("dedup.", "decontam.")
        ):
            report.rejected[problem.reject_reason] += 1
    for name, counts in pipeline.counts_dict().items():
        merged = report.stage_counts.setdefault(name, {"seen": 0, "kept": 0, "rejected": Counter()})
        merged["seen"] += counts["seen"]
        merged["kept"] += counts["kept"]
        merged["rejected"].update(counts["rejected"])


def clean(catalog: Catalog, config: CleaningConfig, *, batch_size: int = CLEAN_BATCH) -> CleanReport:
    """Re-clean every training problem and rebuild the duplicate and contamination indexes."""
    report = CleanReport()
    benchmarks = _reset_indexes(catalog, config)
    for name, source, split in benchmarks:  # index them first: training rows are checked against them
        decontam.register_benchmark(
            catalog, name=name, source=source, split=split, config=config, recheck=False
        )
        report.benchmarks += 1
    with catalog.reader() as con:
        used = _used_ids(con)
    offset = 0
    while True:
        with catalog.writer() as con:
            rows = con.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM problems WHERE benchmark IS NULL "
                "ORDER BY created_at, ingest_id, source, split, source_index LIMIT ? OFFSET ?",
                [batch_size, offset],
            ).fetchall()
            if not rows:
                break
            offset += len(rows)
            report.problems += len(rows)
            _clean_chunk(con, rows, config, report, used)
    report.stage_counts = {
        name: {**counts, "rejected": dict(counts["rejected"])} for name, counts in report.stage_counts.items()
    }
    return report
