"""Catalogs for the report tests: a training run with responses written for the purpose, and a
catalog of several sources with rejects, duplicates, a benchmark leak and unreadable rows."""

from __future__ import annotations

from pathlib import Path

from srpo.catalog import Catalog
from tests.helpers import write_jsonl

QUESTIONS = {"m1": ("What is 3 + 4?", "7"), "m2": ("What is 2 + 6?", "8")}
CODE_ROW = {
    "id": "c1",
    "domain": "code",
    "question": "Print hello.",
    "tests": {"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]},
}


def toy_catalog(directory: Path) -> tuple[Catalog, dict[str, str]]:
    """Two math problems and a code problem; returns the catalog and {row id: problem_id}."""
    from srpo.curate.ingest import IngestOptions, ingest

    rows = [{"id": key, "question": q, "answer": a} for key, (q, a) in QUESTIONS.items()] + [CODE_ROW]
    catalog = Catalog.open(directory / "catalog.duckdb", create=True)
    ingest(catalog, IngestOptions(location=str(write_jsonl(directory / "toy.jsonl", rows))))
    with catalog.reader() as con:
        ids = dict(con.execute("SELECT source_index, problem_id FROM problems").fetchall())
    return catalog, ids


def add_run(catalog: Catalog, run_id: str, samples: list[tuple], *, config: dict | None = None) -> None:
    """A training run whose rollouts are `samples`: (epoch, step, problem_id, sample_idx, tokens,
    status, response or None)."""
    from srpo.catalog import rollouts, runs

    rows = [
        rollouts.RolloutRow(
            run_id=run_id,
            epoch=epoch,
            stage=1,
            step=step,
            problem_id=pid,
            sample_idx=idx,
            reward=1.0 if status == "correct" else 0.0,
            status=status,
            response_tokens=tokens,
            finish_reason="stop",
            response=text,
        )
        for epoch, step, pid, idx, tokens, status, text in samples
    ]
    with catalog.writer() as con:
        runs.start_run(con, run_id, kind=runs.TRAIN_KIND, model="hand-written", config=config or {})
        rollouts.insert_rollouts(con, rows)
