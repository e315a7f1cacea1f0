"""A toy catalog the integration tests share: the taught tiny model's problems (tests/tiny_models.py),
kept and verified, with a code problem whose tests a one-line program passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from srpo.catalog import Catalog
from tests.helpers import write_jsonl
from tests.tiny_models import TAUGHT_ROWS

HELLO = "```python\nprint('hello')\n```"
"""A response that passes the toy code problem's tests."""


def make_catalog(directory: Path) -> Catalog:
    """TAUGHT_ROWS ingested and marked verified (unrated: runs set data.include_unrated)."""
    from srpo.curate.ingest import IngestOptions, ingest

    source = write_jsonl(directory / "toy.jsonl", TAUGHT_ROWS)
    catalog = Catalog.open(directory / "catalog.duckdb", create=True)
    ingest(catalog, IngestOptions(location=str(source)))
    with catalog.writer() as con:
        con.execute("UPDATE problems SET verify_status = 'verified'")
    return catalog


def problem_ids(catalog: Catalog) -> dict[str, str]:
    """source_index (the row's id in TAUGHT_ROWS) -> problem_id."""
    with catalog.reader() as con:
        return dict(con.execute("SELECT source_index, problem_id FROM problems").fetchall())


def query(catalog: Catalog, sql: str, params: list | None = None) -> list[tuple]:
    with catalog.reader() as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def toy_catalog(tmp_path: Path) -> Catalog:
    return make_catalog(tmp_path)
