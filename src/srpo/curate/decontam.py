"""Benchmark decontamination: training problems that leak a registered benchmark are rejected.

`srpo-curate ingest FILE --benchmark NAME` stores FILE's problems with `benchmark = NAME`
(cleaned but never filtered or deduplicated: they are evaluation data), indexes the word
n-grams (13 by default) of each, and re-checks every training problem already in the catalog.
From then on every ingest checks its new problems too. A source ingested as training data can
be turned into a benchmark the same way (or with `srpo-curate benchmark SOURCE --name NAME`):
its rows lose what training cleaning decided about them (rejections other than missing fields,
duplicate links), and training copies that were duplicates of them are rejected as leaks.

A training problem is contaminated when it shares one n-gram with a benchmark problem whose
numbers and operators it also contains, in order (a question shorter than the n-gram counts as
one whole n-gram), or, optionally, has the same numbers and operators as a benchmark problem and
a shingle Jaccard similarity of at least `near_threshold`. The number rule keeps templates with
other numbers and shared boilerplate ("where m and n are relatively prime positive integers")
from counting: those are other problems. Contaminated problems get
`reject_reason = 'decontam.<name>'` and `contaminated_with` = the benchmark problem's id;
already-rejected ones only get the latter.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srpo.catalog import dedup_index
from srpo.catalog.connection import Catalog
from srpo.catalog.dedup_index import StatusUpdate
from srpo.catalog.records import Problem, utcnow
from srpo.curate.config import CleaningConfig
from srpo.curate.fingerprint import Fingerprint, fingerprints, ngram_hashes, question_key, shingles_of
from srpo.curate.text import jaccard, number_signature
from srpo.errors import InputError

if TYPE_CHECKING:
    import duckdb

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
RECHECK_BATCH = 5000
# What a benchmark row keeps of training cleaning: a row without a question, gold or tests.
_REQUIRED_REASONS = (
    "('math.missing_question', 'code.missing_question', 'math.missing_answer', 'code.no_tests')"
)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError(f"--benchmark {name!r}: use lowercase letters, digits, '-' or '_' (e.g. aime24)")
    return name


@dataclass(frozen=True, slots=True)
class Match:
    benchmark: str
    problem_id: str
    how: str  # "ngram" or "near"
    similarity: float | None = None


def registered(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT name FROM benchmarks ORDER BY name").fetchall()]


def _ngram_matches(
    con: duckdb.DuckDBPyConnection, questions: Sequence[str], size: int, only: str | None
) -> dict[int, Match]:
    """Questions sharing an n-gram with a benchmark problem whose numbers they all contain."""
    import pyarrow as pa

    rows = [{"ord": i, "ngram": h} for i, q in enumerate(questions) for h in ngram_hashes(q, size)]
    if not rows:
        return {}
    schema = pa.schema([("ord", pa.int64()), ("ngram", pa.uint64())])
    con.register("srpo_ngrams", pa.Table.from_pylist(rows, schema=schema))
    try:
        found = con.execute(
            """
            SELECT DISTINCT n.ord, b.benchmark, b.problem_id, d.numbers FROM srpo_ngrams n
            JOIN benchmark_ngrams b ON b.ngram = n.ngram
            JOIN problems p ON p.problem_id = b.problem_id AND p.benchmark = b.benchmark
            JOIN dedup_index d USING (source, split, source_index)
            WHERE ? IS NULL OR b.benchmark = ?
            ORDER BY n.ord, b.benchmark, b.problem_id
            """,
            [only, only],
        ).fetchall()
    finally:
        con.unregister("srpo_ngrams")
    matches: dict[int, Match] = {}
    signatures: dict[int, str] = {}
    for ord_, bench, pid, numbers in found:
        mine = signatures.setdefault(ord_, number_signature(questions[ord_]))
        if ord_ not in matches and _contains(mine, numbers or ""):
            matches[ord_] = Match(bench, pid, "ngram")
    return matches


def _contains(text_numbers: str, benchmark_numbers: str) -> bool:
    """The benchmark's numbers and operators appear, in order and adjacent, in the text's."""
    return f" {benchmark_numbers} " in f" {text_numbers} " if benchmark_numbers else True


def _near_matches(
    con: duckdb.DuckDBPyConnection, prints: Sequence[Fingerprint], config: CleaningConfig, only: str | None
) -> dict[int, Match]:
    """Near duplicates of benchmark problems with the same numbers and operators."""
    candidates = _same_numbers(con, prints) + dedup_index.candidate_keys(con, prints, benchmarks=True)
    stored = dedup_index.fetch_problems(con, {key for _, key in candidates})
    matches: dict[int, Match] = {}
    for position, key in candidates:
        other = stored.get(key)
        if other is None or position in matches or (only and other.benchmark != only):
            continue
        mine = prints[position]
        if mine.numbers != number_signature(other.question):
            continue
        same = mine.question_key == question_key(other.domain, other.question)
        score = 1.0 if same else jaccard(mine.shingles, shingles_of(other.question, config.dedup))
        if score >= config.decontam.near_threshold:
            matches[position] = Match(other.benchmark or "", other.problem_id, "near", round(score, 4))
    return matches


def _same_numbers(con: duckdb.DuckDBPyConnection, prints: Sequence[Fingerprint]) -> list[tuple[int, tuple]]:
    """Benchmark problems whose number signature equals a fingerprint's (both may be empty:
    numbers written in words leave none, and such problems are few)."""
    import pyarrow as pa

    rows = [{"ord": i, "domain": f.domain, "numbers": f.numbers} for i, f in enumerate(prints)]
    if not rows:
        return []
    schema = pa.schema([("ord", pa.int64()), ("domain", pa.string()), ("numbers", pa.string())])
    con.register("srpo_numbers", pa.Table.from_pylist(rows, schema=schema))
    try:
        found = con.execute(
            "SELECT n.ord, d.source, d.split, d.source_index FROM srpo_numbers n "
            "JOIN dedup_index d ON d.domain = n.domain AND d.numbers = n.numbers "
            "JOIN problems p USING (source, split, source_index) WHERE p.benchmark IS NOT NULL"
        ).fetchall()
    finally:
        con.unregister("srpo_numbers")
    return [(ord_, (source, split, index)) for ord_, source, split, index in found]


def find_matches(
    con: duckdb.DuckDBPyConnection,
    questions: Sequence[str],
    prints: Sequence[Fingerprint],
    config: CleaningConfig,
    *,
    only: str | None = None,
) -> dict[int, Match]:
    """Position -> the benchmark problem each contaminated question leaks (n-gram first)."""
    matches = _ngram_matches(con, questions, config.decontam.ngram, only)
    if config.decontam.near_duplicates:
        for position, match in _near_matches(con, prints, config, only).items():
            matches.setdefault(position, match)
    return matches


def _note(match: Match) -> dict[str, Any]:
    detail: dict[str, Any] = {"benchmark": match.benchmark, "how": match.how}
    if match.similarity is not None:
        detail["similarity"] = match.similarity
    return {"decontam": detail}


def check_batch(
    con: duckdb.DuckDBPyConnection,
    problems: Sequence[Problem],
    prints: Sequence[Fingerprint],
    config: CleaningConfig,
) -> Counter[str]:
    """Mark contaminated problems of a new batch in place; returns rejections per reason.

    Every problem that leaks a benchmark records it (`contaminated_with`); those still kept are
    rejected with `decontam.<name>`, those already rejected keep their first reason.
    """
    rejected: Counter[str] = Counter()
    if not problems or not registered(con):
        return rejected
    questions = [p.metadata.get("question_raw", p.question) for p in problems]
    for position, match in find_matches(con, questions, prints, config).items():
        problem = problems[position]
        problem.contaminated_with = match.problem_id
        problem.metadata.update(_note(match))
        if problem.clean_status == "kept":
            problem.reject(f"decontam.{match.benchmark}")
            rejected[problem.reject_reason] += 1
    return rejected


# ------------------------------------------------------------------------------- registration


@dataclass(slots=True)
class BenchmarkReport:
    name: str
    problems: int
    rechecked: int = 0
    contaminated: dict[str, int] = field(default_factory=dict)  # a plain dict: asdict() breaks Counter


def _index_benchmark(con: duckdb.DuckDBPyConnection, name: str, config: CleaningConfig) -> int:
    import pyarrow as pa

    rows = con.execute(
        "SELECT source, split, source_index, problem_id, domain, question, answer FROM problems "
        "WHERE benchmark = ? ORDER BY source, split, source_index",
        [name],
    ).fetchall()
    problems = [
        Problem(source=r[0], split=r[1], source_index=r[2], problem_id=r[3], domain=r[4], question=r[5],
                answer=r[6], row_hash="")
        for r in rows
    ]  # fmt: skip
    con.execute("DELETE FROM benchmark_ngrams WHERE benchmark = ?", [name])
    ngrams = [
        {"benchmark": name, "ngram": h, "problem_id": p.problem_id}
        for p in problems for h in ngram_hashes(p.question, config.decontam.ngram)
    ]  # fmt: skip
    if ngrams:
        schema = pa.schema([("benchmark", pa.string()), ("ngram", pa.uint64()), ("problem_id", pa.string())])
        con.register("srpo_bench_ngrams", pa.Table.from_pylist(ngrams, schema=schema))
        try:
            con.execute("INSERT INTO benchmark_ngrams SELECT * FROM srpo_bench_ngrams")
        finally:
            con.unregister("srpo_bench_ngrams")
    dedup_index.insert_fingerprints(con, fingerprints(problems, config.dedup), may_exist=True)
    return len(problems)


def split_list(splits: str | tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The splits a benchmark covers: None for all of its source; stored comma-joined."""
    if splits is None or isinstance(splits, tuple):
        return splits or None
    return tuple(part for part in splits.split(",") if part) or None


def _mark_rows(
    con: duckdb.DuckDBPyConnection, name: str, source: str, splits: tuple[str, ...] | None
) -> None:
    """Make the source's rows benchmark NAME, as `ingest --benchmark` would have stored them:
    training cleaning's rejections (but missing fields) and duplicate links no longer apply."""
    con.execute(
        f"""
        UPDATE problems SET benchmark = ?,
            clean_status = CASE WHEN reject_reason IN {_REQUIRED_REASONS} THEN clean_status ELSE 'kept' END,
            reject_reason = CASE WHEN reject_reason IN {_REQUIRED_REASONS} THEN reject_reason END,
            dup_of = NULL, contaminated_with = NULL, updated_at = ?
        WHERE source = ? AND (? IS NULL OR list_contains(?, split))
        """,
        [name, utcnow(), source, list(splits) if splits else None, list(splits or ())],
    )


def register_benchmark(
    catalog: Catalog,
    *,
    name: str,
    source: str,
    split: str | tuple[str, ...] | None,
    config: CleaningConfig,
    recheck: bool = True,
) -> BenchmarkReport:
    """Mark a source (optionally some splits) as benchmark NAME, index it, re-check the catalog."""
    check_name(name)
    splits = split_list(split)
    with catalog.writer() as con:
        _mark_rows(con, name, source, splits)
        count = _index_benchmark(con, name, config)
        con.execute("DELETE FROM benchmarks WHERE name = ?", [name])
        con.execute(
            "INSERT INTO benchmarks VALUES (?, ?, ?, ?, ?, ?)",
            [name, source, ",".join(splits) if splits else None, config.decontam.ngram, count, utcnow()],
        )
    report = BenchmarkReport(name=name, problems=count)
    if recheck:
        recheck_catalog(catalog, name=name, config=config, report=report)
        _reject_leaked_duplicates(catalog, name, report)
    return report


def _reject_leaked_duplicates(catalog: Catalog, name: str, report: BenchmarkReport) -> None:
    """Training rows rejected as duplicates of a row that is now a benchmark problem, and found
    to leak it, are rejected for the leak: their representative is no training problem anymore."""
    reason = f"decontam.{name}"
    with catalog.writer() as con:
        [(moved,)] = con.execute(
            """
            UPDATE problems SET reject_reason = ?, updated_at = ?
            WHERE benchmark IS NULL AND reject_reason LIKE 'dedup.%' AND contaminated_with IS NOT NULL
              AND dup_of IN (SELECT problem_id FROM problems WHERE benchmark = ?)
            """,
            [reason, utcnow(), name],
        ).fetchall()
    if moved:
        report.contaminated[reason] = report.contaminated.get(reason, 0) + moved


def recheck_catalog(catalog: Catalog, *, name: str, config: CleaningConfig, report: BenchmarkReport) -> None:
    """Check every training problem against benchmark NAME, one committed batch at a time."""
    offset = 0
    while True:
        with catalog.writer() as con:
            rows = con.execute(
                "SELECT source, split, source_index, problem_id, domain, question, answer, clean_status "
                "FROM problems WHERE benchmark IS NULL ORDER BY source, split, source_index LIMIT ? OFFSET ?",
                [RECHECK_BATCH, offset],
            ).fetchall()
            if not rows:
                return
            offset += len(rows)
            report.rechecked += len(rows)
            _recheck_rows(con, rows, name, config, report)


def _recheck_rows(
    con: duckdb.DuckDBPyConnection,
    rows: list[tuple],
    name: str,
    config: CleaningConfig,
    report: BenchmarkReport,
) -> None:
    problems = [
        Problem(source=r[0], split=r[1], source_index=r[2], problem_id=r[3], domain=r[4], question=r[5],
                answer=r[6], row_hash="", clean_status=r[7])
        for r in rows
    ]  # fmt: skip
    prints = fingerprints(problems, config.dedup)
    matches = find_matches(con, [p.question for p in problems], prints, config, only=name)
    updates = []
    for position, match in matches.items():
        problem = problems[position]
        reject = problem.clean_status == "kept"
        updates.append(StatusUpdate(
            key=(problem.source, problem.split, problem.source_index), reason=f"decontam.{name}",
            contaminated_with=match.problem_id, note=_note(match), reject=reject,
        ))  # fmt: skip
        if reject:
            reason = f"decontam.{name}"
            report.contaminated[reason] = report.contaminated.get(reason, 0) + 1
    dedup_index.apply_updates(con, updates)
