"""Exact and near-duplicate removal across sources and ingests.

Two problems are duplicates when they share a domain and their number signatures (numbers and
operators, in order) are equal, and either their canonical questions are equal or the Jaccard
similarity of their shingle sets reaches the threshold. Candidates come from the catalog's
stored keys and MinHash LSH buckets (so an ingest is checked against the whole catalog without
recomputing it) and from the batch itself; the Jaccard re-check is exact, on the texts.

Of a group of duplicates one stays kept, the representative: a verified one before an
unverified one, one with a reference solution before one without, the earliest otherwise. A
stored representative that a new, better problem would replace is only replaced while nothing
depends on it (no rollouts, no difficulty). The others become `dedup.exact` (same question and
answer) or `dedup.near`, with `dup_of` = the representative's problem_id and
`metadata.dedup` = {"of": "source/split/index", "similarity": j}.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from srpo.catalog import dedup_index
from srpo.catalog.dedup_index import Key, StatusUpdate, StoredProblem
from srpo.catalog.records import Problem
from srpo.curate.config import DedupConfig
from srpo.curate.fingerprint import Fingerprint, exact_key, question_key, shingles_of
from srpo.curate.text import jaccard, number_signature

if TYPE_CHECKING:
    import duckdb


@dataclass(slots=True)
class Member:
    """A kept problem that others may duplicate: stored in the catalog or in this batch."""

    key: Key
    problem_id: str
    domain: str
    exact_key: str
    question_key: str
    numbers: str
    shingles: np.ndarray
    rank: tuple[Any, ...]  # lower is better
    movable: bool
    problem: Problem | None = None  # set for members of the current batch
    kept: bool = True

    @property
    def label(self) -> str:
        return "/".join(self.key)


def _rank(*, verified: bool, has_solution: bool, age: tuple[Any, ...]) -> tuple[Any, ...]:
    return (not verified, not has_solution, *age)


def _stored_member(
    stored: StoredProblem, config: DedupConfig, shingle_cache: dict[Key, np.ndarray]
) -> Member:
    """A stored problem as a member; its keys come from the index, its shingles from the cache."""
    shingles = shingle_cache.get(stored.key)
    if shingles is None:
        shingles = shingle_cache[stored.key] = shingles_of(stored.question, config)
    return Member(
        key=stored.key, problem_id=stored.problem_id, domain=stored.domain,
        exact_key=stored.exact_key or exact_key(stored.domain, stored.question, stored.answer),
        question_key=stored.question_key or question_key(stored.domain, stored.question),
        numbers=stored.numbers if stored.numbers is not None else number_signature(stored.question),
        shingles=shingles,
        rank=_rank(verified=stored.verified, has_solution=stored.has_solution,
                   age=(0, str(stored.created_at))),
        movable=not stored.used,
    )  # fmt: skip


def _batch_member(problem: Problem, fingerprint: Fingerprint, position: int) -> Member:
    return Member(
        key=fingerprint.key, problem_id=problem.problem_id, domain=problem.domain,
        exact_key=fingerprint.exact_key, question_key=fingerprint.question_key,
        numbers=fingerprint.numbers, shingles=fingerprint.shingles,
        rank=_rank(verified=problem.verify_status == "verified", has_solution=bool(problem.solution),
                   age=(1, position)),
        movable=True, problem=problem,
    )  # fmt: skip


def similarity(first: Member, second: Member, threshold: float) -> float | None:
    """Jaccard similarity when the two are duplicates, else None."""
    if first.domain != second.domain or first.numbers != second.numbers:
        return None  # problems that differ in a number or an operator are different problems
    if first.question_key == second.question_key:
        return 1.0
    score = jaccard(first.shingles, second.shingles)
    return score if score >= threshold else None


@dataclass(slots=True)
class DedupResult:
    rejected: Counter[str] = field(default_factory=Counter)
    superseded: int = 0  # stored representatives replaced by a better new problem


@dataclass(slots=True)
class _Resolver:
    """Walks the batch in order, matching each problem against stored and earlier members."""

    config: DedupConfig
    result: DedupResult = field(default_factory=DedupResult)
    updates: list[StatusUpdate] = field(default_factory=list)
    repoints: list[tuple[str, str]] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)  # superseded representative -> successor
    by_question: dict[tuple[str, str], list[Member]] = field(default_factory=lambda: defaultdict(list))
    by_bucket: dict[str, list[dict[int, list[Member]]]] = field(default_factory=dict)
    """Per domain, per band: bucket -> members (int keys: no tuple built per lookup)."""

    def _bands(self, fingerprint: Fingerprint) -> list[dict[int, list[Member]]]:
        tables = self.by_bucket.get(fingerprint.domain)
        if tables is None:
            tables = self.by_bucket[fingerprint.domain] = [{} for _ in fingerprint.buckets]
        return tables

    def batch_candidates(self, fingerprint: Fingerprint) -> list[Member]:
        found = list(self.by_question.get((fingerprint.domain, fingerprint.question_key), ()))
        for table, bucket in zip(self._bands(fingerprint), fingerprint.buckets, strict=True):
            members = table.get(bucket)
            if members:
                found.extend(members)
        return found

    def remember(self, member: Member, fingerprint: Fingerprint) -> None:
        self.by_question[(member.domain, member.question_key)].append(member)
        for table, bucket in zip(self._bands(fingerprint), fingerprint.buckets, strict=True):
            members = table.get(bucket)
            if members is None:
                table[bucket] = [member]
            else:
                members.append(member)

    def resolve(self, member: Member, fingerprint: Fingerprint, candidates: list[Member]) -> None:
        matches = []
        for other in {id(c): c for c in candidates if c.kept and c is not member}.values():
            score = similarity(member, other, self.config.threshold)
            if score is not None:
                matches.append((other.rank, score, other))
        if not matches:
            self.remember(member, fingerprint)
            return
        _, score, representative = min(matches, key=lambda m: m[0])
        if member.rank < representative.rank and representative.movable:
            self._lose(representative, to=member, score=score)
            self.replaced[representative.problem_id] = member.problem_id
            self.remember(member, fingerprint)
        else:
            self._lose(member, to=representative, score=score)

    def _lose(self, loser: Member, *, to: Member, score: float) -> None:
        reason = "dedup.exact" if loser.exact_key == to.exact_key else "dedup.near"
        note = {"dedup": {"of": to.label, "similarity": round(score, 4)}}
        loser.kept = False
        if loser.problem is not None:
            loser.problem.reject(reason)
            loser.problem.dup_of = to.problem_id
            loser.problem.metadata.update(note)
            self.result.rejected[reason] += 1
        else:
            self.updates.append(StatusUpdate(key=loser.key, reason=reason, dup_of=to.problem_id, note=note))
            self.repoints.append((loser.problem_id, to.problem_id))
            self.result.superseded += 1


def _repoint_batch(problems: Sequence[Problem], replaced: dict[str, str]) -> None:
    """Batch duplicates of a representative that was replaced later in the batch follow it."""
    for problem in problems:
        target = problem.dup_of
        while target in replaced and replaced[target] != target:
            target = replaced[target]
        if problem.dup_of is not None and target != problem.dup_of and problem.problem_id != target:
            problem.dup_of = target


def deduplicate(
    con: duckdb.DuckDBPyConnection,
    problems: Sequence[Problem],
    fingerprints: Sequence[Fingerprint],
    config: DedupConfig,
    *,
    shingle_cache: dict[Key, np.ndarray] | None = None,
) -> DedupResult:
    """Resolve duplicates among `problems` (new, kept, in input order) and the catalog.

    Rejects losers in place (the caller stores the batch) and updates stored representatives
    that a better new problem replaced. Indexes every fingerprint afterwards. `shingle_cache`,
    kept by the caller across batches, saves re-reading the shingles of stored problems that
    many new ones duplicate.
    """
    resolver = _Resolver(config)
    cache = shingle_cache if shingle_cache is not None else {}
    if len(cache) > 500_000:
        cache.clear()
    candidates = dedup_index.candidate_keys(con, fingerprints, benchmarks=False)
    stored = {
        key: _stored_member(row, config, cache)
        for key, row in dedup_index.fetch_problems(con, {key for _, key in candidates}).items()
    }
    by_position: dict[int, list[Member]] = defaultdict(list)
    for position, key in candidates:
        if key in stored:
            by_position[position].append(stored[key])
    for position, (problem, fingerprint) in enumerate(zip(problems, fingerprints, strict=True)):
        member = _batch_member(problem, fingerprint, position)
        resolver.resolve(member, fingerprint, by_position[position] + resolver.batch_candidates(fingerprint))
    _repoint_batch(problems, resolver.replaced)
    dedup_index.apply_updates(con, resolver.updates)
    for old, new in resolver.repoints:
        dedup_index.repoint_duplicates(con, old=old, new=new)
    dedup_index.insert_fingerprints(con, fingerprints)
    cache.update((f.key, f.shingles) for f in fingerprints)  # later batches will meet these
    return resolver.result
