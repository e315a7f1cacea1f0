"""Shared fixtures: a fresh catalog, the shared datasets when present, and a CLI runner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers import SHARED_DATA, SHARED_DATASETS


@pytest.fixture(scope="session", autouse=True)
def _leave_process_group():
    """The trainer tests that run in this process join a one-process gloo group; leave it before
    the interpreter exits, as `srpo-train` does (a process that exits in a gloo group can abort)."""
    yield
    if "torch" in sys.modules:  # never imported here: most of the suite needs no torch
        from srpo.train import distributed

        distributed.leave_processes(finished=True)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip the test when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_catalog(tmp_path_factory):
    """One catalog holding every dataset of ../shared/data, built once per test session.

    Returns (catalog, {dataset path: IngestReport}). Tests must only read it.
    """
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    from srpo.catalog import Catalog
    from srpo.curate.ingest import IngestOptions, ingest

    catalog = Catalog.open(tmp_path_factory.mktemp("shared") / "all.duckdb", create=True)
    reports = {
        path: ingest(catalog, IngestOptions(location=str(SHARED_DATA / path))) for path, *_ in SHARED_DATASETS
    }
    return catalog, reports


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.duckdb"


@pytest.fixture
def catalog(catalog_path: Path):
    from srpo.catalog import Catalog

    return Catalog.open(catalog_path, create=True)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A random tiny Qwen2-style model and tokenizer, built offline (see srpo.testing.tiny_model)."""
    from tests.tiny_models import build_random

    return build_random(tmp_path_factory.mktemp("tiny-random"))


@pytest.fixture(scope="session")
def taught_model(tmp_path_factory) -> Path:
    """A tiny model taught to answer \\boxed{7}, and 7 or 8 to the coin question (tests/tiny_models.py)."""
    from tests.tiny_models import build_taught

    return build_taught(tmp_path_factory.mktemp("tiny-taught"))
