"""The commands as a user runs them: summaries, queries, exports, one-line errors (help: test_help)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from tests.helpers import run_cli, write_jsonl


@pytest.fixture
def filled(tmp_path):
    """A catalog holding the built-in demo set plus a file with two broken lines."""
    catalog = tmp_path / "c.duckdb"
    assert run_cli("ingest", "srpo:demo", "--catalog", str(catalog), "-q").returncode == 0
    broken = write_jsonl(tmp_path / "extra.jsonl", [{"question": "Is 7 prime? Answer 1 for yes.", "answer": "1"},
                                                    "{bad json", {"question": 5, "answer": "x"}])  # fmt: skip
    result = run_cli("ingest", str(broken), "--catalog", str(catalog))
    assert result.returncode == 0, result.stderr
    return catalog, result


def test_ingest_prints_summary_and_invalid_examples(filled):
    _, result = filled
    assert "rows read" in result.stdout and "invalid (see invalid_rows)" in result.stdout
    assert "adapter: generic" in result.stderr
    assert "extra.jsonl:2" in result.stderr and "extra.jsonl:3: field 'question'" in result.stderr


def test_ingest_strict_fails_on_invalid_rows(filled, tmp_path):
    catalog, _ = filled
    broken = write_jsonl(tmp_path / "more.jsonl", ["nope"])
    assert (
        run_cli(
            "ingest", str(broken), "--adapter", "generic", "--strict", "--catalog", str(catalog)
        ).returncode
        == 1
    )


def test_query_filters_and_formats(filled, tmp_path):
    catalog, _ = filled
    kept_math = run_cli(
        "query", "--catalog", str(catalog), "--domain", "math", "--status", "kept", "-f", "jsonl"
    )
    rows = [json.loads(line) for line in kept_math.stdout.splitlines()]
    assert rows and all(r["domain"] == "math" and r["clean_status"] == "kept" for r in rows)
    assert isinstance(rows[0]["metadata"], dict)  # JSON columns come out as JSON, not text
    code = run_cli("query", "--catalog", str(catalog), "--domain", "code", "--status", "kept", "-f", "jsonl")
    assert all(isinstance(json.loads(line)["tests"], dict) for line in code.stdout.splitlines())
    rejected = run_cli("query", "--catalog", str(catalog), "--reason", "code", "-f", "csv")
    assert rejected.stdout.splitlines()[0].startswith('"problem_id"') and "code.no_tests" in rejected.stdout
    out = tmp_path / "sel.parquet"
    assert (
        run_cli(
            "query", "--catalog", str(catalog), "--limit", "3", "-f", "parquet", "-o", str(out)
        ).returncode
        == 0
    )
    assert pq.read_table(out).num_rows == 3


def test_query_table_shows_a_page_and_says_so(filled):
    catalog, _ = filled
    result = run_cli("query", "--catalog", str(catalog))
    assert "problem_id" in result.stdout
    assert "showing 20 of 41 rows" in result.stderr


def test_query_sql_and_difficulty_filter(filled):
    catalog, _ = filled
    result = run_cli("query", "--catalog", str(catalog), "--sql",
                     "SELECT domain, count(*) AS n FROM problems GROUP BY 1 ORDER BY 1", "-f", "jsonl")  # fmt: skip
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"domain": "code", "n": 9}, {"domain": "math", "n": 32}
    ]  # fmt: skip
    unrated = run_cli("query", "--catalog", str(catalog), "--difficulty", "unrated", "-f", "jsonl")
    assert len(unrated.stdout.splitlines()) == 41
    hard = run_cli("query", "--catalog", str(catalog), "--difficulty", "hard", "-f", "jsonl")
    assert hard.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--difficulty", "extreme"], "--difficulty: unknown value 'extreme'"),
        (["--status", "maybe"], "--status must be kept or rejected"),
        (["--sql", "SELEC 1"], "--sql: Parser Error"),
        (["--sql", "DELETE FROM problems"], "--sql:"),
        (["--columns", "nope"], "no column 'nope'"),
        (["--format", "xml"], "--format must be one of"),
        (["--export", "axolotl"], "--export must be one of"),
    ],
)
def test_bad_query_options_fail_in_one_line(filled, args, message):
    catalog, _ = filled
    result = run_cli("query", "--catalog", str(catalog), *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_missing_catalog_and_missing_source_fail_in_one_line(tmp_path):
    result = run_cli("query", "--catalog", str(tmp_path / "none.duckdb"))
    assert result.returncode == 1 and "no catalog at" in result.stderr
    result = run_cli("ingest", str(tmp_path / "none.jsonl"), "--catalog", str(tmp_path / "c.duckdb"))
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_hub_id_offline_is_a_clear_error(tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    result = run_cli("ingest", "someone/some-dataset", "--catalog", str(tmp_path / "c.duckdb"), env=env)
    assert result.returncode == 1
    assert "cannot fetch dataset 'someone/some-dataset' from the Hugging Face hub" in result.stderr
    assert "pass the local path" in result.stderr and "Traceback" not in result.stderr


def test_stats_counts_by_source_and_reason(filled):
    catalog, _ = filled
    result = run_cli("stats", "--catalog", str(catalog), "-f", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    sources = {(r["source"], r["domain"]): r for r in records if r["table"] == "sources"}
    assert sources[("demo", "math")]["rows"] == 31 and sources[("demo", "math")]["rejected"] == 1
    assert sources[("extra", "math")]["rows"] == 1
    reasons = {r["reason"]: r["rows"] for r in records if r["table"] == "reasons"}
    assert reasons == {"math.missing_answer": 1, "code.no_tests": 1}
    invalid = [r for r in records if r["table"] == "invalid"]
    assert sum(r["rows"] for r in invalid) == 2


# ------------------------------------------------------------------------------------ exports


def test_export_trl(filled):
    catalog, _ = filled
    result = run_cli("query", "--catalog", str(catalog), "--export", "trl")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 39  # kept problems only
    math_row = next(r for r in rows if r["domain"] == "math")
    assert math_row["prompt"][0]["role"] == "user"
    assert "\\boxed{}" in math_row["prompt"][0]["content"]
    assert math_row["answer"] and math_row["problem_id"]
    code_row = next(r for r in rows if r["domain"] == "code")
    assert "```python" in code_row["prompt"][0]["content"]
    assert json.loads(code_row["tests"])["type"] in {"stdio", "call", "assert"}


def test_export_verl_parquet(filled, tmp_path):
    catalog, _ = filled
    out = tmp_path / "train.parquet"
    result = run_cli(
        "query", "--catalog", str(catalog), "--export", "verl", "--domain", "math", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    assert set(table.column_names) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    first = table.slice(0, 1).to_pylist()[0]
    assert first["ability"] == "math" and first["reward_model"]["style"] == "rule"
    assert first["reward_model"]["ground_truth"] and first["extra_info"]["index"] == 0


def test_export_openrlhf(filled):
    catalog, _ = filled
    result = run_cli("query", "--catalog", str(catalog), "--export", "openrlhf", "--domain", "code")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 8
    assert all(set(r) == {"input", "label", "datasource", "problem_id", "srpo_label"} for r in rows)
    assert all(json.loads(r["label"])["type"] in {"stdio", "call", "assert"} for r in rows)


@pytest.mark.parametrize("target", ["trl", "openrlhf"])
def test_export_follows_the_output_extension(filled, tmp_path, target):
    catalog, _ = filled
    out = tmp_path / "train.parquet"
    result = run_cli("query", "--catalog", str(catalog), "--export", target, "-o", str(out))
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)  # parquet, not JSON lines under a .parquet name
    assert table.num_rows == 39 and ("prompt" in table.column_names or "input" in table.column_names)
    jsonl = tmp_path / "train.jsonl"
    assert run_cli("query", "--catalog", str(catalog), "--export", "verl", "-o", str(jsonl)).returncode == 0
    assert json.loads(jsonl.read_text().splitlines()[0])["ability"] in {"math", "code"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--export", "trl", "-f", "jsonl", "-o", "train.parquet"],
         "-o {dir}/train.parquet: the name says parquet but --format is jsonl"),
        (["--export", "verl", "-o", "train.csv"], "--export verl writes jsonl or parquet, but -o {dir}/train.csv"),
        (["--export", "openrlhf", "-f", "csv"], "--format must be one of jsonl, parquet with --export openrlhf"),
        (["-f", "csv", "-o", "sel.parquet"], "the name says parquet but --format is csv"),
        (["-f", "table", "-o", "sel.jsonl"], "--format table prints to the terminal"),
    ],
)  # fmt: skip
def test_output_that_contradicts_its_name_is_refused(filled, tmp_path, args, message):
    catalog, _ = filled
    args = [str(tmp_path / a) if a.startswith(("train.", "sel.")) else a for a in args]
    result = run_cli("query", "--catalog", str(catalog), *args)
    assert result.returncode == 2 and message.format(dir=tmp_path) in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.glob("train.*")) and not any(tmp_path.glob("sel.*"))  # nothing written


def test_query_format_follows_the_output_extension(filled, tmp_path):
    catalog, _ = filled
    out = tmp_path / "sel.csv"
    assert run_cli("query", "--catalog", str(catalog), "--limit", "3", "-o", str(out)).returncode == 0
    assert out.read_text().splitlines()[0].startswith('"problem_id","source"')  # CSV, not JSON lines


def test_errors_name_the_flag_that_caused_them(filled, tmp_path):
    catalog, _ = filled
    missing = run_cli("clean", "--catalog", str(catalog), "--config", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and f"--config {tmp_path / 'nope.yaml'}: no such file" in missing.stderr
    empty = run_cli(
        "query",
        "--catalog",
        str(catalog),
        "--export",
        "verl",
        "--source",
        "nope",
        "-o",
        str(tmp_path / "x.parquet"),
    )
    assert empty.returncode == 2 and "--export verl: no problems match the filters" in empty.stderr
