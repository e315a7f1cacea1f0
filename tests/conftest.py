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


# Every file of ../shared/data: (path, adapter, source, rows per split).
SHARED_DATASETS = [
    ("gsm8k/train.jsonl", "gsm8k", "gsm8k", {"train": 7473}),
    ("gsm8k/test.jsonl", "gsm8k", "gsm8k", {"test": 1319}),
    ("math/math500_test.jsonl", "math500", "math500", {"test": 500}),
    ("math/hendrycks_math", "math", "hendrycks_math", {"train": 7500, "test": 5000}),
    ("humaneval/HumanEval.jsonl.gz", "humaneval", "humaneval", {"test": 164}),
    ("mbpp/mbpp.jsonl", "mbpp", "mbpp", {"prompt": 10, "test": 500, "validation": 90, "train": 374}),
    (
        "mbpp/sanitized-mbpp.json",
        "mbpp",
        "sanitized-mbpp",
        {"prompt": 7, "test": 257, "validation": 43, "train": 120},
    ),
    ("aime_amc/qwq_aime24.jsonl", "aime", "qwq_aime24", {"test": 30}),
    ("aime_amc/qwq_aime25.jsonl", "aime", "qwq_aime25", {"test": 30}),
    ("aime_amc/qwen25math_aime24.jsonl", "aime", "qwen25math_aime24", {"test": 30}),
    ("aime_amc/qwen25math_amc23.jsonl", "aime", "qwen25math_amc23", {"test": 40}),
    ("rllm_deepscaler/test_math/aime.json", "aime", "aime", {"test": 30}),
    ("rllm_deepscaler/test_math/amc.json", "aime", "amc", {"test": 83}),
    ("rllm_deepscaler/test_math/math.json", "math500", "math", {"test": 500}),
    ("rllm_deepscaler/train_math/aime.json", "aime", "aime", {"train": 975}),
    ("rllm_deepscaler/train_math/math.json", "deepscaler", "math", {"train": 7474}),
    ("rllm_deepscaler/test_code/code_contests.json", "codecontests", "code_contests", {"test": 165}),
    ("rllm_deepscaler/test_code/codeforces.json", "codecontests", "codeforces", {"test": 408}),
    ("rllm_deepscaler/test_code/leetcode.json", "leetcode", "leetcode", {"test": 200}),
    ("rllm_deepscaler/train_code/leetcode.json", "leetcode", "leetcode", {"train": 1889}),
    ("deepscaler_sample/deepscaler_train.parquet", "deepscaler", "deepscaler", {"train": 2000}),
    ("deepscaler_sample/deepscaler_val.parquet", "deepscaler", "deepscaler", {"validation": 100}),
]


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
    """A random tiny Qwen2-style model and tokenizer, built offline (see srpo.testing.tiny_model)."""
    from .tiny_models import build_random

    return build_random(tmp_path_factory.mktemp("tiny-random"))


@pytest.fixture(scope="session")
def taught_model(tmp_path_factory) -> Path:
    """A tiny model taught to answer \\boxed{7}, and 7 or 8 to the coin question (tests/tiny_models.py)."""
    from .tiny_models import build_taught

    return build_taught(tmp_path_factory.mktemp("tiny-taught"))
