"""Well-known evaluation sets: the ingest notice, turning a stored source into a benchmark (which
re-checks the catalog for its copies), and the counts `stats` shows per benchmark."""

from __future__ import annotations

import json

import pytest

from srpo.catalog import Catalog
from srpo.curate.benchmarks import make_benchmark, notice, recognise
from srpo.curate.config import CleaningConfig
from srpo.curate.ingest import IngestOptions, ingest
from srpo.errors import InputError
from tests.helpers import run_cli, write_jsonl

# A toy "MATH-500": two problems any training copy of which is a leak, and one with a figure
# that training cleaning rejects (a benchmark keeps it).
EVAL = [
    {"id": "m1", "question": "Find the remainder when $2^{100}$ is divided by $7$.", "answer": "2"},
    {"id": "m2", "question": "Suzanne walks four miles every third day. What is the fewest number of miles she "
                             "can walk in February?", "answer": "36"},
    {"id": "m3", "question": "[asy]draw((0,0)--(3,4));[/asy] Find the length of the segment drawn above.",
     "answer": "5"},
]  # fmt: skip
# A toy "Hendrycks MATH": exact copies of m1 and m2, and a problem of its own.
TRAINING = [
    {"id": "t1", "question": EVAL[0]["question"], "answer": "2"},
    {"id": "t2", "question": EVAL[1]["question"], "answer": "36"},
    {"id": "t3", "question": "A baker sells 12 loaves a day for 5 days. How many loaves does he sell?", "answer": "60"},
]  # fmt: skip


def rows(catalog: Catalog, source: str) -> list[tuple]:
    with catalog.reader() as con:
        return con.execute(
            "SELECT source_index, clean_status, reject_reason, benchmark, contaminated_with IS NOT NULL "
            "FROM problems WHERE source = ? ORDER BY source_index",
            [source],
        ).fetchall()


@pytest.mark.parametrize(
    ("source", "location", "adapter", "splits", "expected"),
    [
        ("math500", "/d/math/math500_test.jsonl", "math500", {"test"}, "math500"),
        ("qwq_aime24", "/d/aime_amc/qwq_aime24.jsonl", "aime", {"test"}, "aime24"),
        ("qwen25math_aime24", "/d/aime_amc/qwen25math_aime24.jsonl", "aime", {"test"}, "aime24"),
        ("qwq_aime25", "/d/aime_amc/qwq_aime25.jsonl", "aime", {"test"}, "aime25"),
        ("qwen25math_amc23", "/d/aime_amc/qwen25math_amc23.jsonl", "aime", {"test"}, "amc23"),
        ("aime", "/d/rllm/test_math/aime.json", "aime", {"test"}, "aime"),
        ("gsm8k", "/d/gsm8k/test.jsonl", "gsm8k", {"test"}, "gsm8k-test"),
        ("humaneval", "/d/humaneval/HumanEval.jsonl.gz", "humaneval", {"test"}, "humaneval"),
        ("mbpp", "/d/mbpp/mbpp.jsonl", "mbpp", {"train", "test", "validation", "prompt"}, "mbpp-test"),
        ("livecodebench/code_generation_lite", "hf://livecodebench/code_generation_lite", "codecontests",
         {"test"}, "livecodebench"),
        ("hendrycks_math", "/d/math/hendrycks_math", "math", {"train", "test"}, "math-test"),
        ("gsm8k", "/d/gsm8k/train.jsonl", "gsm8k", {"train"}, None),
        ("aime", "/d/rllm/train_math/aime.json", "aime", {"train"}, None),
        ("deepscaler", "/d/deepscaler_sample/deepscaler_train.parquet", "deepscaler", {"train"}, None),
        ("demo", "srpo:demo", "generic", {"train"}, None),
        ("homework", "/d/my/math/test.jsonl", "generic", {"test"}, None),
    ],
)  # fmt: skip
def test_well_known_evaluation_sets_are_recognised_by_name_adapter_and_split(
    source, location, adapter, splits, expected
):
    known = recognise(source=source, location=location, adapter=adapter, splits=splits)
    assert (known.name if known else None) == expected


def test_the_notice_shows_the_benchmark_form_of_the_command():
    math500 = recognise(
        source="math500", location="/d/math500_test.jsonl", adapter="math500", splits={"test"}
    )
    shown = notice(math500, source="math500", location="/d/math500_test.jsonl", splits={"test"})
    assert shown == {"looks_like": "MATH-500", "name": "math500",
                     "command": "srpo-curate ingest /d/math500_test.jsonl --benchmark math500"}  # fmt: skip
    # Only MBPP's test split is the evaluation set: the ingest form would mark all of the file.
    mbpp = recognise(source="mbpp", location="/d/mbpp.jsonl", adapter="mbpp", splits={"train", "test"})
    shown = notice(mbpp, source="mbpp", location="/d/mbpp.jsonl", splits={"train", "test"})
    assert shown["command"] == "srpo-curate benchmark mbpp --split test --name mbpp-test"


def test_ingesting_a_known_evaluation_set_without_the_flag_prints_the_notice(tmp_path):
    path = write_jsonl(tmp_path / "math500_test.jsonl", EVAL)
    catalog = tmp_path / "c.duckdb"
    result = run_cli("ingest", str(path), "--catalog", str(catalog), "-q")
    assert result.returncode == 0, result.stderr
    assert "note: math500 looks like MATH-500, a well-known evaluation set" in result.stdout
    assert f"srpo-curate ingest {path} --benchmark math500" in result.stdout
    as_json = run_cli("ingest", str(path), "--catalog", str(catalog), "-q", "-f", "json")
    assert json.loads(as_json.stdout)["looks_like"]["name"] == "math500"
    # Once it is a benchmark, there is nothing to point out.
    flagged = run_cli("ingest", str(path), "--catalog", str(catalog), "-q", "--benchmark", "math500")
    assert flagged.returncode == 0 and "looks like" not in flagged.stdout
    assert "looks like" not in run_cli("ingest", str(path), "--catalog", str(catalog), "-q").stdout


def test_a_source_stored_as_training_data_becomes_a_benchmark_and_its_copies_leaks(catalog, tmp_path):
    """Training copies first: the toy MATH-500 rows are duplicates of them, and one has a figure."""
    ingest(catalog, IngestOptions(location=str(write_jsonl(tmp_path / "hendrycks.jsonl", TRAINING))))
    ingest(catalog, IngestOptions(location=str(write_jsonl(tmp_path / "math500_test.jsonl", EVAL))))
    assert [r[2] for r in rows(catalog, "math500")] == ["dedup.exact", "dedup.exact", "math.needs_image"]

    report = make_benchmark(catalog, name="math500", source="math500", splits=None, config=CleaningConfig())
    assert report.problems == 3 and report.contaminated == {"decontam.math500": 2}
    # Evaluation data: what training cleaning decided no longer applies, the figure included.
    assert rows(catalog, "math500") == [(i, "kept", None, "math500", False) for i in ("m1", "m2", "m3")]
    assert rows(catalog, "hendrycks") == [
        ("t1", "rejected", "decontam.math500", None, True),
        ("t2", "rejected", "decontam.math500", None, True),
        ("t3", "kept", None, None, False),
    ]


def test_duplicates_of_a_source_that_becomes_a_benchmark_are_rejected_as_leaks(tmp_path):
    """The toy MATH-500 first: the training copies are its duplicates, then it turns benchmark
    through the ingest command the notice shows; `stats` counts what it keeps out."""
    catalog = tmp_path / "c.duckdb"
    evaluation = write_jsonl(tmp_path / "math500_test.jsonl", EVAL)
    assert run_cli("ingest", str(evaluation), "--catalog", str(catalog), "-q").returncode == 0
    training = write_jsonl(tmp_path / "hendrycks.jsonl", TRAINING)
    assert run_cli("ingest", str(training), "--catalog", str(catalog), "-q").returncode == 0
    opened = Catalog.open(catalog)
    assert [r[2] for r in rows(opened, "hendrycks")] == ["dedup.exact", "dedup.exact", None]

    result = run_cli("ingest", str(evaluation), "--catalog", str(catalog), "-q", "--benchmark", "math500")
    assert result.returncode == 0, result.stderr
    assert "benchmark math500: 3 problems registered; 3 training problems re-checked, newly rejected: " \
           "decontam.math500 2" in result.stdout  # fmt: skip
    assert [r[2] for r in rows(opened, "hendrycks")] == ["decontam.math500", "decontam.math500", None]
    stats = run_cli("stats", "--catalog", str(catalog), "-f", "jsonl")
    [counts] = [r for r in map(json.loads, stats.stdout.splitlines()) if r["table"] == "benchmarks"]
    assert counts == {"table": "benchmarks", "benchmark": "math500", "source": "math500", "splits": "test",
                      "problems": 3, "training_rejected": 2, "training_leaking": 2}  # fmt: skip
    assert (
        "benchmarks (training problems each keeps out)" in run_cli("stats", "--catalog", str(catalog)).stdout
    )


def test_the_benchmark_command_marks_only_the_splits_asked_for(tmp_path):
    catalog = tmp_path / "c.duckdb"
    mixed = [*({**row, "split": "test"} for row in EVAL[:2]), {**TRAINING[2], "split": "train"}]
    path = write_jsonl(tmp_path / "mixed.jsonl", mixed)
    assert run_cli("ingest", str(path), "--catalog", str(catalog), "-q").returncode == 0
    copies = write_jsonl(tmp_path / "copies.jsonl", TRAINING[:2])
    assert run_cli("ingest", str(copies), "--catalog", str(catalog), "-q").returncode == 0
    result = run_cli(
        "benchmark", "mixed", "--split", "test", "--name", "mixed-test", "--catalog", str(catalog)
    )
    assert result.returncode == 0, result.stderr
    assert "benchmark mixed-test: 2 problems registered" in result.stdout
    opened = Catalog.open(catalog)
    assert [(r[0], r[3]) for r in rows(opened, "mixed")] == [("m1", "mixed-test"), ("m2", "mixed-test"),
                                                             ("t3", None)]  # fmt: skip
    assert [r[2] for r in rows(opened, "copies")] == ["decontam.mixed-test", "decontam.mixed-test"]


def test_ingest_benchmark_marks_only_the_splits_of_its_input(tmp_path):
    """gsm8k/train.jsonl and gsm8k/test.jsonl share the source name gsm8k: registering the test
    file must leave the training split alone."""
    catalog = Catalog.open(tmp_path / "c.duckdb", create=True)
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    ingest(catalog, IngestOptions(location=str(write_jsonl(folder / "train.jsonl", TRAINING[2:]))))
    ingest(
        catalog,
        IngestOptions(location=str(write_jsonl(folder / "test.jsonl", EVAL[:2])), benchmark="gsm8k-test"),
    )
    with catalog.reader() as con:
        found = con.execute("SELECT split, benchmark FROM problems ORDER BY split, source_index").fetchall()
    assert found == [("test", "gsm8k-test"), ("test", "gsm8k-test"), ("train", None)]


def test_bad_benchmark_requests_name_the_argument_or_flag(catalog, tmp_path):
    ingest(catalog, IngestOptions(location=str(write_jsonl(tmp_path / "hendrycks.jsonl", TRAINING))))
    config = CleaningConfig()
    with pytest.raises(InputError, match="SOURCE nope: no such source in the catalog; it has: hendrycks"):
        make_benchmark(catalog, name="x", source="nope", splits=None, config=config)
    with pytest.raises(InputError, match="--split validation: source hendrycks has splits test"):
        make_benchmark(catalog, name="x", source="hendrycks", splits=("validation",), config=config)
    make_benchmark(catalog, name="first", source="hendrycks", splits=None, config=config)
    with pytest.raises(InputError, match="split test is already benchmark first; --name first"):
        make_benchmark(catalog, name="second", source="hendrycks", splits=None, config=config)
    with pytest.raises(InputError, match="--benchmark 'Bad Name'"):
        make_benchmark(catalog, name="Bad Name", source="hendrycks", splits=None, config=config)
