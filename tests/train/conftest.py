"""A toy catalog and a small, fast training config for the loop tests."""

from __future__ import annotations

import json
from pathlib import Path

from srpo.catalog import Catalog
from tests.helpers import write_jsonl
from tests.tiny_models import TAUGHT_ROWS

# The taught tiny model answers 7 to everything but the coin question (7 or 8): with these golds
# the seven questions are solved (all correct), the eight questions never are, the coin is mixed.
ROWS = [
    *TAUGHT_ROWS,
    {"id": "easy", "question": "What is 2 + 5?", "answer": "7"},
    {"id": "pending", "question": "What is 0 + 7?", "answer": "7"},
]  # fmt: skip
MATH_IDS = {f"seven{i}" for i in range(4)} | {"eight0", "eight1", "coin"}


def make_catalog(directory: Path) -> Catalog:
    """Kept, verified, unrated problems (one rated easy, one unverified: neither is trained on)."""
    from srpo.curate.ingest import IngestOptions, ingest

    source = write_jsonl(directory / "toy.jsonl", ROWS)
    catalog = Catalog.open(directory / "catalog.duckdb", create=True)
    ingest(catalog, IngestOptions(location=str(source)))
    with catalog.writer() as con:
        con.execute("UPDATE problems SET verify_status = 'verified' WHERE source_index <> 'pending'")
        con.execute("UPDATE problems SET difficulty = 'easy' WHERE source_index = 'easy'")
    return catalog


def ids_by_index(catalog: Catalog) -> dict[str, str]:
    with catalog.reader() as con:
        return dict(con.execute("SELECT source_index, problem_id FROM problems").fetchall())


def small_config(output: Path, *overrides: str):
    """Four problems x four samples per step, short responses, two optimiser steps per batch
    (mini-batches) and a KL term, so the losses are not trivially zero."""
    from srpo.config import load_config
    from srpo.train.config import TrainConfig

    settings = [
        "seed=3", f"output_dir={output}/{{run_id}}", "data.include_unrated=true", "sampling.n=4",
        "data.prompts_per_step=4", "sampling.max_new_tokens=16", "optim.learning_rate=1e-4",
        "objective.mini_batches=2", "objective.kl_coef=0.1", "objective.micro_batch_size=4",
        "stages.switch_after_steps=4", "grader.workers=1", "checkpoint.every_steps=2",
        "budget.max_steps=6", "logging.store_responses=true", *overrides,
    ]  # fmt: skip
    return load_config(TrainConfig, None, settings)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def query(catalog: Catalog, sql: str, params: list | None = None) -> list[tuple]:
    with catalog.reader() as con:
        return con.execute(sql, params or []).fetchall()
