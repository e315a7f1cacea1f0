"""Typed records that cross the catalog boundary, and the identity of a problem.

`Problem` is one occurrence of a problem in a source, exactly as it is stored in `problems`.
`problem_id` is a content hash of the domain and the normalised question, so the same question
from two sources (or two ingests) gets the same id; the occurrence key is
(source, split, source_index).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from srpo.catalog.testspec import CodeTests, tests_to_json

Domain = Literal["math", "code"]
CleanStatus = Literal["kept", "rejected"]
VerifyStatus = Literal["pending", "verified", "wrong", "ambiguous", "unverifiable", "flaky"]
Difficulty = Literal["easy", "medium", "hard"]

DOMAINS: tuple[str, ...] = ("math", "code")
VERIFY_STATUSES: tuple[str, ...] = ("pending", "verified", "wrong", "ambiguous", "unverifiable", "flaky")
DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")

_WHITESPACE = re.compile(r"\s+")


def utcnow() -> datetime:
    """Naive UTC: DuckDB's TIMESTAMP has no zone, and local time would make catalogs differ."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def identity_text(question: str) -> str:
    """The normalisation behind `problem_id`: Unicode NFKC and collapsed whitespace.

    Deliberately small and frozen: changing it changes every id. Cleaning (URLs, labels, HTML)
    happens before this, on the stored question.
    """
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", question)).strip()


def make_problem_id(domain: str, question: str) -> str:
    digest = hashlib.sha256(f"{domain}\x00{identity_text(question)}".encode()).hexdigest()
    return digest[:16]


def row_hash(raw: Any) -> str:
    """Fingerprint of a raw source row, so a re-ingest recognises rows it already holds."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


@dataclass(slots=True)
class Problem:
    """One row of `problems`."""

    source: str
    split: str
    source_index: str
    domain: Domain
    question: str
    row_hash: str
    answer: str | None = None
    solution: str | None = None
    tests: CodeTests | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    license: str | None = None
    clean_status: CleanStatus = "kept"
    reject_reason: str | None = None
    verify_status: VerifyStatus = "pending"
    verify_reason: str | None = None
    difficulty: Difficulty | None = None
    pass_rate: float | None = None
    pass_at_k: dict[str, float] | None = None
    dup_of: str | None = None
    contaminated_with: str | None = None
    benchmark: str | None = None
    ingest_id: int | None = None
    problem_id: str = ""

    def refresh_id(self) -> None:
        """Recompute `problem_id` from the (possibly cleaned) question."""
        self.problem_id = make_problem_id(self.domain, self.question)

    def reject(self, reason: str) -> None:
        self.clean_status = "rejected"
        self.reject_reason = reason

    def to_row(self, now: datetime) -> dict[str, Any]:
        if not self.problem_id:
            self.refresh_id()
        return {
            "problem_id": self.problem_id,
            "source": self.source,
            "split": self.split,
            "source_index": self.source_index,
            "domain": self.domain,
            "question": self.question,
            "answer": self.answer,
            "solution": self.solution,
            "tests": tests_to_json(self.tests) if self.tests is not None else None,
            "metadata": json.dumps(self.metadata, ensure_ascii=False, default=str),
            "license": self.license,
            "clean_status": self.clean_status,
            "reject_reason": self.reject_reason,
            "verify_status": self.verify_status,
            "verify_reason": self.verify_reason,
            "difficulty": self.difficulty,
            "pass_rate": self.pass_rate,
            "pass_at_k": json.dumps(self.pass_at_k) if self.pass_at_k is not None else None,
            "dup_of": self.dup_of,
            "contaminated_with": self.contaminated_with,
            "benchmark": self.benchmark,
            "row_hash": self.row_hash,
            "ingest_id": self.ingest_id,
            "created_at": now,
            "updated_at": now,
        }


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A source row that could not become a problem at all; nothing is dropped silently."""

    source: str
    split: str | None
    file: str
    line: int
    field: str | None
    error: str
    raw: str | None = None
    ingest_id: int | None = None

    def describe(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: field {self.field!r}: {self.error}" if self.field else f"{where}: {self.error}"

    def to_row(self, now: datetime) -> dict[str, Any]:
        return {
            "ingest_id": self.ingest_id,
            "source": self.source,
            "split": self.split,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "error": self.error,
            "raw": self.raw,
            "created_at": now,
        }


PROBLEM_COLUMNS: tuple[str, ...] = (
    "problem_id", "source", "split", "source_index", "domain", "question", "answer", "solution",
    "tests", "metadata", "license", "clean_status", "reject_reason", "verify_status",
    "verify_reason", "difficulty", "pass_rate", "pass_at_k", "dup_of", "contaminated_with",
    "benchmark", "row_hash", "ingest_id", "created_at", "updated_at",
)  # fmt: skip

INVALID_ROW_COLUMNS: tuple[str, ...] = (
    "ingest_id", "source", "split", "file", "line", "field", "error", "raw", "created_at",
)  # fmt: skip
