"""One ingest pass, batch by batch: rows become problems, are cleaned, checked against
registered benchmarks and the catalog's duplicates, and committed in one transaction.

A batch's problems, its invalid rows, the resolution of its duplicates and the ingest's progress
land together or not at all, so a killed run leaves nothing half-written, and a re-run skips
what is stored and decides the rest exactly as an uninterrupted run would.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.catalog import ingests, invalid_rows
from srpo.catalog import problems as problem_store
from srpo.catalog.connection import Catalog
from srpo.catalog.records import InvalidRow, Problem, row_hash
from srpo.curate import decontam, dedup
from srpo.curate.adapters import Adapter
from srpo.curate.config import CleaningConfig
from srpo.curate.fingerprint import fingerprints
from srpo.curate.pipeline import Pipeline
from srpo.curate.sources import BadRow, RawRow, SourceFile
from srpo.errors import RowError

if TYPE_CHECKING:
    import duckdb

MAX_EXAMPLES = 5


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def raw_text(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)[:2000]


@dataclass(frozen=True, kw_only=True)
class PassSettings:
    """What every row of one ingest pass shares."""

    source: str
    adapter: Adapter
    ingest_id: int
    split: str | None = None
    license: str | None = None
    benchmark: str | None = None
    config: CleaningConfig = field(default_factory=CleaningConfig)


@dataclass(slots=True)
class IngestPass:
    """Converts rows and writes them batch by batch; accumulates the pass's counts."""

    catalog: Catalog
    settings: PassSettings
    pipeline: Pipeline
    counts: ingests.IngestCounts = field(default_factory=ingests.IngestCounts)
    splits: dict[str, int] = field(default_factory=dict)
    catalog_checks: dict[str, Counter[str]] = field(
        default_factory=lambda: {"decontam": Counter(), "dedup": Counter()}
    )
    superseded: int = 0
    examples: list[str] = field(default_factory=list)
    shingle_cache: dict = field(default_factory=dict)

    def invalid(
        self, file: SourceFile, line: int, field_name: str | None, error: str, raw: str | None
    ) -> InvalidRow:
        row = InvalidRow(
            source=self.settings.source, split=self.settings.split, file=str(file.path), line=line,
            field=field_name, error=error, raw=raw, ingest_id=self.settings.ingest_id,
        )  # fmt: skip
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(InvalidRow(**{**asdict(row), "file": display_path(file.path)}).describe())
        return row

    def convert(self, row: RawRow) -> Problem | InvalidRow:
        settings = self.settings
        try:
            draft = settings.adapter.convert(row.data)
        except RowError as error:
            return self.invalid(row.file, row.line, error.field, error.message, raw_text(row.data))
        except Exception as error:  # an adapter bug on odd data must not lose the other rows
            message = f"adapter {settings.adapter.name} failed: {type(error).__name__}: {error}"
            return self.invalid(row.file, row.line, None, message, raw_text(row.data))
        split = (
            settings.split or draft.split or row.file.split_hint or settings.adapter.default_split or "train"
        )
        return Problem(
            source=settings.source, split=split, source_index=draft.source_index or row.locator,
            domain=draft.domain, question=draft.question, row_hash=row_hash(row.data),
            answer=draft.answer, solution=draft.solution, tests=draft.tests, metadata=draft.metadata,
            license=draft.license or settings.license or settings.adapter.license,
            benchmark=settings.benchmark, ingest_id=settings.ingest_id,
        )  # fmt: skip

    def process(self, rows: list[RawRow | BadRow]) -> None:
        problems: list[Problem] = []
        invalid: list[InvalidRow] = []
        origins: dict[int, RawRow] = {}
        for row in rows:
            converted = (
                self.invalid(row.file, row.line, None, row.error, row.raw)
                if isinstance(row, BadRow)
                else self.convert(row)
            )
            if isinstance(converted, Problem):
                problems.append(converted)
                origins[id(converted)] = row
            else:
                invalid.append(converted)
        self.pipeline.run(problems)
        with self.catalog.writer() as con:
            batch = problem_store.classify(con, problems)
            self._check_against_catalog(con, batch.new)
            problem_store.insert_new(con, batch.new)
            invalid.extend(self._collision(p, origins[id(p)]) for p in batch.collisions)
            invalid_rows.insert_invalid_rows(con, invalid)
            stored_statuses = problem_store.status_counts(con, batch.existing)
            self.counts.rows_read += len(rows)
            ingests.record_progress(con, self.settings.ingest_id, rows_read=self.counts.rows_read)
        self._count(batch, invalid, stored_statuses)

    def _check_against_catalog(self, con: duckdb.DuckDBPyConnection, new: list[Problem]) -> None:
        """Check new training problems against benchmarks (all of them, so a leak is recorded even
        on a problem a filter rejected), then deduplicate the ones still kept."""
        config = self.settings.config
        training = [p for p in new if p.benchmark is None]
        if not training or not config.dedup.enabled:
            return
        prints = fingerprints(training, config.dedup)
        self.catalog_checks["decontam"].update(decontam.check_batch(con, training, prints, config))
        still = [(p, f) for p, f in zip(training, prints, strict=True) if p.clean_status == "kept"]
        result = dedup.deduplicate(
            con, [p for p, _ in still], [f for _, f in still], config.dedup, shingle_cache=self.shingle_cache
        )
        self.catalog_checks["dedup"].update(result.rejected)
        self.superseded += result.superseded

    def _count(
        self, batch: problem_store.Classified, invalid: list[InvalidRow], stored: dict[str, int]
    ) -> None:
        self.counts.rows_existing += len(batch.existing)
        self.counts.rows_invalid += len(invalid)
        self.counts.rows_kept += sum(p.clean_status == "kept" for p in batch.new) + stored.get("kept", 0)
        self.counts.rows_rejected += sum(p.clean_status == "rejected" for p in batch.new) + stored.get(
            "rejected", 0
        )
        for problem in [*batch.new, *batch.existing]:
            self.splits[problem.split] = self.splits.get(problem.split, 0) + 1

    def _collision(self, problem: Problem, row: RawRow) -> InvalidRow:
        message = (
            f"{problem.source}/{problem.split}/{problem.source_index} already holds a different row; "
            "pass --source to ingest this data under its own name"
        )
        return self.invalid(row.file, row.line, "source_index", message, raw_text(row.data))

    def stage_counts(self) -> dict[str, Any]:
        """Per-stage counts: the pipeline's, then the catalog-wide checks on new problems."""
        counts = self.pipeline.counts_dict()
        for name, rejected in self.catalog_checks.items():
            counts[name] = {"rejected": dict(rejected)}
        if self.superseded:
            counts["dedup"]["superseded_stored"] = self.superseded
        return counts
