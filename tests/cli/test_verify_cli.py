"""`srpo-curate verify` and `srpo-curate grade`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_jsonl


def test_verify_help():
    result = run_cli("verify", "--help")
    assert result.returncode == 0
    for option in (
        "--source",
        "--domain",
        "--where",
        "--limit",
        "--recheck",
        "--workers",
        "--catalog",
    ):
        assert option in result.stdout


def test_grade_help():
    result = run_cli("grade", "--help")
    assert result.returncode == 0
    for option in ("--in", "--out", "--workers", "--timeout"):
        assert option in result.stdout


def test_top_level_help_does_not_import_the_heavy_stack():
    code = (
        "import sys\n"
        "from srpo.cli.curate import main\n"
        "sys.argv = ['srpo-curate', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sympy', 'math_verify', 'latex2sympy2_extended', 'duckdb', 'pebble')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_grade_a_file_in_order_with_bad_lines_reported(tmp_path: Path):
    source = write_jsonl(
        tmp_path / "responses.jsonl",
        [
            {"id": "a", "domain": "math", "answer": "1/2", "response": "so \\boxed{0.5}"},
            "{not json",
            {"id": "b", "answer": 7, "response": "The final answer is 8."},
            {"id": "c", "answer": "x^2-1", "response": "\\boxed{(x-1)(x+1)}"},
            {"id": "d", "response": "\\boxed{1}"},
            {"id": "e", "answer": "3", "response": "no answer here"},
        ],
    )
    out = tmp_path / "graded.jsonl"
    result = run_cli("grade", "--in", str(source), "--out", str(out), "--workers", "2", "-q")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r.get("id"), r["status"], r["reward"]) for r in rows] == [
        ("a", "correct", 1.0), (None, "error", 0.0), ("b", "wrong", 0.0), ("c", "correct", 1.0),
        ("d", "error", 0.0), ("e", "no_answer", 0.0),
    ]  # fmt: skip
    assert rows[0]["extracted"] == "0.5" and rows[1]["line"] == 2
    assert f"{source}:2: not valid JSON" in result.stderr
    assert f"{source}:5: field 'answer': missing" in result.stderr


def test_grade_takes_golds_from_the_catalog_by_problem_id(tmp_path: Path, catalog_path: Path):
    data = write_jsonl(
        tmp_path / "problems.jsonl",
        [
            {"question": "What is 6 times 7?", "answer": "42"},
            {"question": "What is 2+2?", "answer": "4"},
        ],
    )
    ingest = run_cli("ingest", str(data), "--adapter", "generic", "--catalog", str(catalog_path), "-q")
    assert ingest.returncode == 0, ingest.stderr
    ids = run_cli("query", "--sql", "SELECT problem_id, answer FROM problems ORDER BY answer",
                  "--format", "jsonl", "--catalog", str(catalog_path))  # fmt: skip
    by_answer = {row["answer"]: row["problem_id"] for row in map(json.loads, ids.stdout.splitlines())}
    source = write_jsonl(
        tmp_path / "responses.jsonl",
        [
            {"problem_id": by_answer["42"], "response": "\\boxed{42}"},
            {"problem_id": by_answer["4"], "response": "\\boxed{5}"},
            {"problem_id": "0000000000000000", "response": "\\boxed{5}"},
        ],
    )
    result = run_cli("grade", "--in", str(source), "--out", "-", "--catalog", str(catalog_path), "-q")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in rows] == ["correct", "wrong", "error"]
    assert "is not in the catalog" in rows[2]["detail"]


def test_grade_reports_a_missing_input_in_one_line(tmp_path: Path):
    result = run_cli("grade", "--in", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"srpo-curate: error: --in: no file {tmp_path / 'nope.jsonl'}"


def test_verify_a_catalog_and_print_the_summary(tmp_path: Path, catalog_path: Path):
    data = write_jsonl(
        tmp_path / "golds.jsonl",
        [
            {
                "problem": "Find $x$.",
                "solution": "We get $\\boxed{3}$.",
                "answer": "3",
                "unique_id": "a",
            },
            {
                "problem": "Find $y$.",
                "solution": "We get $\\boxed{4}$.",
                "answer": "5",
                "unique_id": "b",
            },
            {
                "problem": "Find $z$.",
                "solution": "Either works.",
                "answer": "1 or 2",
                "unique_id": "c",
            },
        ],
    )
    assert (
        run_cli("ingest", str(data), "--adapter", "math500", "--catalog", str(catalog_path), "-q").returncode
        == 0
    )
    result = run_cli("verify", "--catalog", str(catalog_path), "--format", "json", "-q")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["checked"] == 3
    assert report["by_source"]["golds"] == {"verified": 1, "wrong": 1, "ambiguous": 1}
    table = run_cli("verify", "--catalog", str(catalog_path), "--recheck", "-q")
    assert "gold.disagrees_with_solution" in table.stdout and "golds" in table.stdout
    stats = run_cli("query", "--verify-status", "wrong", "--format", "jsonl", "--catalog", str(catalog_path))
    assert [json.loads(line)["answer"] for line in stats.stdout.splitlines()] == ["5"]


@pytest.mark.shared_data
def test_verify_the_shared_competition_golds(shared_data: Path, tmp_path: Path):
    catalog = tmp_path / "shared.duckdb"
    names = ("math/math500_test.jsonl", "aime_amc/qwen25math_aime24.jsonl",
             "aime_amc/qwen25math_amc23.jsonl", "aime_amc/qwq_aime25.jsonl")  # fmt: skip
    for name in names:
        ingest = run_cli("ingest", str(shared_data / name), "--catalog", str(catalog), "-q")
        assert ingest.returncode == 0, ingest.stderr
    result = run_cli("verify", "--catalog", str(catalog), "--format", "json", "-q", timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    kept = run_cli("query", "--sql", "SELECT count(*) AS n FROM problems WHERE clean_status = 'kept'",
                   "--format", "jsonl", "--catalog", str(catalog))  # fmt: skip
    assert report["checked"] == json.loads(kept.stdout)["n"] > 500  # duplicates are rejected at ingest
    verified = sum(counts.get("verified", 0) for counts in report["by_source"].values())
    assert verified == report["checked"], report["by_reason"]


# ----------------------------------------------------------- the grader settings bind code too

STDIO_SUM = {"type": "stdio", "cases": [{"input": "2 3\n", "output": "5\n"}]}


def _code_lines(tmp_path, **programs: str):
    rows = [
        {"id": name, "domain": "code", "tests": STDIO_SUM, "response": f"```python\n{program}\n```"}
        for name, program in programs.items()
    ]
    return write_jsonl(tmp_path / "responses.jsonl", rows)


def _grade(tmp_path, source, *args: str) -> dict[str, dict]:
    out = tmp_path / "graded.jsonl"
    result = run_cli("grade", "--in", str(source), "--out", str(out), "-q", *args, timeout=120)
    assert result.returncode == 0, result.stderr
    return {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}


SUM = "a, b = map(int, input().split())\nprint(a + b)"


def test_timeout_bounds_each_code_test_case(tmp_path):
    source = _code_lines(
        tmp_path, endless="while True:\n    pass", slow=f"import time\ntime.sleep(2.5)\n{SUM}", quick=SUM
    )
    started = time.monotonic()
    graded = _grade(tmp_path, source, "--timeout", "1")
    assert time.monotonic() - started < 30  # not the sandbox's 60 s default for a whole response
    assert graded["endless"]["status"] == "timeout" and graded["endless"]["reward"] == 0
    assert graded["slow"]["status"] == "timeout"  # 2.5 s per case is over --timeout 1
    assert graded["quick"]["status"] == "passed"
    assert _grade(tmp_path, source, "--set", "grader.timeout_s=5")["slow"]["status"] == "passed"


def test_a_sandbox_memory_limit_set_with_set_is_honoured(tmp_path):
    hungry = f"block = bytearray(300 * 1024 * 1024)\nblock[-1] = 1\n{SUM}"
    source = _code_lines(tmp_path, hungry=hungry)
    assert _grade(tmp_path, source)["hungry"]["status"] == "passed"  # 1024 MB by default
    capped = _grade(tmp_path, source, "--set", "grader.sandbox.memory_mb=128")["hungry"]
    assert capped["status"] == "memory" and capped["reward"] == 0


def test_grader_settings_are_checked_and_renamed_keys_named(tmp_path):
    source = _code_lines(tmp_path, quick=SUM)
    out = str(tmp_path / "out.jsonl")
    bad = run_cli("grade", "--in", str(source), "--out", out, "--set", "grader.sandbox.memory_mb=0")
    assert bad.returncode == 2 and "grader.sandbox.memory_mb must be positive" in bad.stderr
    unknown = run_cli("grade", "--in", str(source), "--out", out, "--set", "grader.sandbox.memory=5")
    assert unknown.returncode == 2 and "unknown setting grader.sandbox.memory" in unknown.stderr
