"""Shared fixtures: a fresh catalog, the shared datasets when present, and a CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

SHARED_DATA = Path(
    os.environ.get("SRPO_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
).resolve()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip the test when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.duckdb"


@pytest.fixture
def catalog(catalog_path: Path):
    from srpo.catalog import Catalog

    return Catalog.open(catalog_path, create=True)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> Path:
    """Rows as JSON lines; a str row is written verbatim (for broken lines)."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    module: str = "srpo.cli.curate",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run an srpo command in a subprocess, as a user would."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A random tiny Qwen2-style model and tokenizer, built offline (see srpo.train.tiny)."""
    from .tiny_models import build_random

    return build_random(tmp_path_factory.mktemp("tiny-random"))


@pytest.fixture(scope="session")
def taught_model(tmp_path_factory) -> Path:
    """A tiny model taught to answer \\boxed{7}, and 7 or 8 to the coin question (tests/tiny_models.py)."""
    from .tiny_models import build_taught

    return build_taught(tmp_path_factory.mktemp("tiny-taught"))
