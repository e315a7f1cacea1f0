"""Helpers the tests share: where the shared datasets are, writing JSONL, running a command.

Imported as `tests.helpers` (fixtures live in conftest.py files, helpers here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TEST_DATA = Path(__file__).resolve().parent / "data"
"""tests/data: labelled sets and their scripts."""
SHARED_DATA = Path(
    os.environ.get("SRPO_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
).resolve()


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
