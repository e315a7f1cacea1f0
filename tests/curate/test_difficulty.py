"""`srpo-curate difficulty` end to end with the transformers engine on a taught tiny model, the
pass@k numbers against a direct computation, the buckets, resuming, and difficulties that
come with a dataset (`ingest --difficulty-from-source`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from math import comb
from pathlib import Path

import pytest

from srpo.catalog import Catalog
from srpo.curate.passk import DifficultyThresholds, k_values, pass_at_k, pass_at_k_table, rate
from srpo.errors import InputError
from tests.helpers import run_cli, write_jsonl
from tests.tiny_models import EIGHT_QUESTIONS, TAUGHT_ROWS

K = 8

# ------------------------------------------------------------------------------ the numbers


def direct_pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k), written out as the share of k-subsets with a correct sample."""
    subsets = comb(n, k)
    all_wrong = comb(n - c, k) if n - c >= k else 0
    return (subsets - all_wrong) / subsets


@pytest.mark.parametrize("n", [1, 2, 5, 8, 16, 100])
def test_pass_at_k_matches_the_direct_computation(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(direct_pass_at_k(n, c, k), abs=1e-12)
        assert pass_at_k(n, c, 1) == pytest.approx(c / n)  # pass@1 is the pass rate
        assert pass_at_k(n, c, n) == (1.0 if c else 0.0)  # pass@n: solved at all


def test_k_values_are_powers_of_two_up_to_n_and_n():
    assert k_values(1) == [1]
    assert k_values(8) == [1, 2, 4, 8]
    assert k_values(12) == [1, 2, 4, 8, 12]
    assert pass_at_k_table([True, False, False, False]) == {"1": 0.25, "2": 0.5, "4": 1.0}
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)


@pytest.mark.parametrize(
    ("correct", "bucket"),
    [
        ([False] * 10, "hard"),
        ([True] + [False] * 9, "hard"),  # 0.1
        ([True] * 2 + [False] * 8, "medium"),  # exactly 0.2: no longer hard
        ([True] * 5 + [False] * 5, "medium"),
        ([True] * 7 + [False] * 3, "medium"),  # 0.7
        ([True] * 8 + [False] * 2, "easy"),  # exactly 0.8: easy
        ([True] * 10, "easy"),
    ],
)
def test_buckets_from_known_rewards(correct, bucket):
    rating = rate("p", correct, DifficultyThresholds())
    assert rating.difficulty == bucket
    assert rating.pass_rate == sum(correct) / len(correct) and rating.samples == len(correct)


def test_thresholds_are_configurable_and_checked():
    open_r1 = DifficultyThresholds(hard_below=0.1, easy_at=0.6)  # open-r1 keeps 0.1-0.6 of 8
    assert [open_r1.bucket(x) for x in (0.0, 0.125, 0.5, 0.625)] == ["hard", "medium", "medium", "easy"]
    with pytest.raises(InputError, match=r"thresholds\.hard_below"):
        DifficultyThresholds(hard_below=0.9, easy_at=0.5).validate()


# ---------------------------------------------------------------------- a small catalog

ROWS = [
    *TAUGHT_ROWS,
    {"id": "pending", "question": "What is 0 + 7?", "answer": "7"},
    {"id": "rated", "question": "What is 5 + 2?", "answer": "7"},
]  # fmt: skip
SELECTED = {"seven0", "seven1", "seven2", "seven3", "eight0", "eight1", "coin", "code"}


def make_catalog(path: Path, tmp_path: Path) -> Catalog:
    from srpo.curate.ingest import IngestOptions, ingest

    source = write_jsonl(tmp_path / "toy.jsonl", ROWS)
    catalog = Catalog.open(path, create=True)
    ingest(catalog, IngestOptions(location=str(source)))
    with catalog.writer() as con:  # what `srpo-curate verify` would leave
        con.execute("UPDATE problems SET verify_status = 'verified' WHERE source_index <> 'pending'")
        con.execute("UPDATE problems SET difficulty = 'easy' WHERE source_index = 'rated'")
    return catalog


def ids_by_index(catalog: Catalog) -> dict[str, str]:
    with catalog.reader() as con:
        return dict(con.execute("SELECT source_index, problem_id FROM problems").fetchall())


def rollouts(catalog: Catalog, run_id: str) -> list[dict]:
    with catalog.reader() as con:
        cursor = con.execute(
            "SELECT * FROM rollouts WHERE run_id = ? ORDER BY problem_id, sample_idx", [run_id]
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def difficulty_args(model: Path, catalog: Path, *extra: str) -> list[str]:
    return ["difficulty", "--model", str(model), "--k", str(K), "--set", "sampling.max_new_tokens=24",
            "--catalog", str(catalog), "--set", "grader.workers=1", "-q", *extra]  # fmt: skip


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def rated(taught_model, tmp_path_factory):
    """The CLI run once over the toy catalog; tests below read what it left."""
    tmp = tmp_path_factory.mktemp("rated")
    catalog = make_catalog(tmp / "c.duckdb", tmp)
    result = run_cli(*difficulty_args(taught_model, catalog.path, "--set", "batch_size=3", "-f", "json"))
    assert result.returncode == 0, result.stderr
    return catalog, json.loads(result.stdout)


def test_difficulty_samples_k_per_selected_problem_and_records_the_run(rated, taught_model):
    catalog, report = rated
    ids = ids_by_index(catalog)
    rows = rollouts(catalog, report["run_id"])
    assert report["selected"] == len(SELECTED) and report["samples"] == len(SELECTED) * K
    assert {row["problem_id"] for row in rows} == {ids[i] for i in SELECTED}
    by_problem: dict[str, list[dict]] = {}
    for row in rows:
        by_problem.setdefault(row["problem_id"], []).append(row)
    assert all([r["sample_idx"] for r in group] == list(range(K)) for group in by_problem.values())
    for row in rows:
        assert row["reward"] == (1.0 if row["status"] == "correct" else 0.0)
        assert row["epoch"] == 0 and row["stage"] == 0 and row["finish_reason"] in ("stop", "length")
        assert row["response_tokens"] > 0 and row["response"]
    assert {r["extracted"] for r in by_problem[ids["seven0"]]} == {"7"}
    with catalog.reader() as con:
        [(kind, model, config, status, notes)] = con.execute(
            "SELECT kind, model, config, status, notes FROM runs WHERE run_id = ?", [report["run_id"]]
        ).fetchall()
    config, notes = json.loads(config), json.loads(notes)
    assert (kind, model, status) == ("difficulty", str(taught_model), "completed")
    assert config["backend"] == "transformers" and config["k"] == K and config["sampling"]["n"] == K
    assert config["sampling"]["max_new_tokens"] == 24 and config["thresholds"] == {
        "hard_below": 0.2,
        "easy_at": 0.8,
    }
    assert notes["samples"] == len(SELECTED) * K


def test_pass_rates_pass_at_k_and_buckets_follow_the_rollouts(rated):
    catalog, report = rated
    ids = ids_by_index(catalog)
    rows = rollouts(catalog, report["run_id"])
    with catalog.reader() as con:
        stored = {
            index: (difficulty, pass_rate, json.loads(pass_at) if pass_at else None)
            for index, difficulty, pass_rate, pass_at in con.execute(
                "SELECT source_index, difficulty, pass_rate, pass_at_k FROM problems"
            ).fetchall()
        }
    code_statuses = {r["status"] for r in rows if r["problem_id"] == ids["code"]}
    rated_ids = SELECTED - ({"code"} if "error" in code_statuses else set())
    for index in rated_ids:
        statuses = [r["status"] for r in rows if r["problem_id"] == ids[index]]
        n, c = len(statuses), statuses.count("correct")
        difficulty, pass_rate, pass_at = stored[index]
        assert pass_rate == c / n
        assert pass_at == pytest.approx({str(k): direct_pass_at_k(n, c, k) for k in (1, 2, 4, 8)})
        assert difficulty == DifficultyThresholds().bucket(c / n)
    assert {stored[f"seven{i}"][:2] for i in range(4)} == {("easy", 1.0)}
    assert {stored[f"eight{i}"][:2] for i in range(2)} == {("hard", 0.0)}
    assert stored["coin"][0] == "medium" and 0.2 <= stored["coin"][1] < 0.8
    if "error" in code_statuses:  # the code grader (sandbox) is not installed: unknown, not hard
        assert stored["code"] == (None, None, None) and report["unrated"] == 1
    assert stored["pending"] == (None, None, None)  # not verified: not selected by default
    assert stored["rated"] == ("easy", None, None)  # already rated: not selected by default


def test_stats_and_query_show_the_new_difficulties(rated):
    catalog, _ = rated
    result = run_cli("stats", "--catalog", str(catalog.path), "-f", "jsonl")
    [histogram] = [
        json.loads(line)
        for line in result.stdout.splitlines()
        if '"table": "difficulty"' in line and '"math"' in line
    ]
    assert (histogram["easy"], histogram["medium"], histogram["hard"], histogram["unrated"]) == (5, 1, 2, 1)
    hard = run_cli("query", "--catalog", str(catalog.path), "--difficulty", "hard", "-f", "jsonl")
    # The tiny model writes no working program, so the code problem is hard too (graded in the sandbox).
    assert sorted(json.loads(line)["question"] for line in hard.stdout.splitlines()) == sorted(
        [*EIGHT_QUESTIONS, "Print hello."]
    )


def test_include_pending_and_rerate_widen_the_selection(rated, taught_model):
    catalog, _ = rated
    result = run_cli(*difficulty_args(taught_model, catalog.path, "--set", "selection.include_pending=true",
                                      "--set", "selection.domains=[math]",
                                      "--where", "source_index IN ('pending', 'rated')", "-f", "json"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["selected"] == 1  # pending; 'rated' still has a difficulty
    again = run_cli(
        *difficulty_args(
            taught_model,
            catalog.path,
            "--set",
            "selection.rerate=true",
            "--where",
            "source_index = 'rated'",
            "-f",
            "json",
        )
    )
    assert json.loads(again.stdout)["selected"] == 1
    with catalog.reader() as con:
        assert (
            con.execute(
                "SELECT difficulty, pass_rate FROM problems WHERE source_index IN ('pending', 'rated')"
            ).fetchall()
            == [("easy", 1.0)] * 2
        )


# ------------------------------------------------------------------------------- resume


def test_interrupted_run_resumes_without_sampling_anything_twice(taught_model, tmp_path):
    from srpo.curate.difficulty import DifficultyConfig, run_difficulty
    from srpo.rollout import EngineConfig, SamplingConfig
    from srpo.verify.config import GraderConfig

    catalog = make_catalog(tmp_path / "c.duckdb", tmp_path)
    options = DifficultyConfig(
        engine=EngineConfig(model=str(taught_model), device="cpu"),
        sampling=SamplingConfig(n=4, max_new_tokens=24), batch_size=2, grader=GraderConfig(workers=1),
    )  # fmt: skip

    def interrupt_after_first_batch(samples: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_difficulty(catalog, options, run_id="resume-me", on_progress=interrupt_after_first_batch)
    first = rollouts(catalog, "resume-me")
    assert len(first) == 2 * 4
    with catalog.reader() as con:
        assert con.execute("SELECT status FROM runs WHERE run_id = 'resume-me'").fetchall() == [
            ("interrupted",)
        ]
    report = run_difficulty(catalog, options, run_id="resume-me")
    assert report.resumed and report.selected == len(SELECTED) - 2
    final = rollouts(catalog, "resume-me")
    assert len(final) == len(SELECTED) * 4
    assert len({(r["problem_id"], r["sample_idx"]) for r in final}) == len(final)
    kept = {(r["problem_id"], r["sample_idx"]): r for r in final}
    assert all(kept[(r["problem_id"], r["sample_idx"])] == r for r in first)  # untouched, not redone


def _rollouts_so_far(path: Path, run_id: str) -> int:
    """Poll without waiting on the writer's lock (a retrying reader lets the run race ahead)."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return 0
    try:
        return con.execute("SELECT count(*) FROM rollouts WHERE run_id = ?", [run_id]).fetchall()[0][0]
    except duckdb.Error:
        return 0
    finally:
        con.close()


def test_killed_cli_run_resumes_with_the_same_run_id(taught_model, tmp_path):
    catalog = make_catalog(tmp_path / "c.duckdb", tmp_path)
    args = difficulty_args(
        taught_model, catalog.path, "--set", "batch_size=1", "--run-id", "crash", "-f", "json"
    )
    env = {**os.environ, "SRPO_LOCK_TIMEOUT": "30"}
    process = subprocess.Popen([sys.executable, "-m", "srpo.cli.curate", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if _rollouts_so_far(catalog.path, "crash") >= K:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    first = rollouts(catalog, "crash")
    assert 0 < len(first) < len(SELECTED) * K
    with catalog.reader() as con:
        assert con.execute("SELECT status FROM runs WHERE run_id = 'crash'").fetchall() == [("running",)]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["resumed"] and report["selected"] == len(SELECTED) - len(first) // K
    final = rollouts(catalog, "crash")
    assert len(final) == len(SELECTED) * K
    kept = {(r["problem_id"], r["sample_idx"]): r for r in final}
    assert all(kept[(r["problem_id"], r["sample_idx"])] == r for r in first)


def test_resuming_with_other_settings_is_refused(rated, taught_model):
    catalog, report = rated
    result = run_cli(
        *difficulty_args(
            taught_model, catalog.path, "--run-id", report["run_id"], "--set", "sampling.temperature=0.5"
        )
    )
    assert result.returncode == 2
    assert f"--run-id {report['run_id']}: the run was started with sampling" in result.stderr
    assert "Traceback" not in result.stderr


def test_difficulty_help_and_option_errors(tmp_path):
    help_text = run_cli("difficulty", "--help")
    assert help_text.returncode == 0 and "--config" in help_text.stdout and "--set" in help_text.stdout
    assert "selection.*" in help_text.stdout and "--catalog" in help_text.stdout
    Catalog.open(tmp_path / "c.duckdb", create=True)
    wrong = run_cli(
        "difficulty", "--model", "m", "--set", "engine.openai.base_url=http://x/v1",
        "--catalog", str(tmp_path / "c.duckdb"),
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "engine.openai.base_url: not a setting of the transformers backend" in wrong.stderr
    where = run_cli(
        "difficulty", "--model", "m", "--where", "nope = 1", "--catalog", str(tmp_path / "c.duckdb")
    )
    assert where.returncode == 2 and where.stderr.startswith("srpo-curate: error: --where:")


# ------------------------------------------------------------------ difficulties from sources


def test_ingest_keeps_source_difficulty_and_uses_it_only_when_asked(tmp_path):
    catalog = tmp_path / "c.duckdb"
    scale = write_jsonl(tmp_path / "scaled.jsonl", [
        {"question": f"Scaled {v}?", "answer": "1", "difficulty": v} for v in (1.5, 3, 5.5, 6, 9)
    ] + [{"question": "No difficulty?", "answer": "1"}])  # fmt: skip
    assert run_cli("ingest", str(scale), "--catalog", str(catalog), "-q").returncode == 0
    with Catalog.open(catalog).reader() as con:
        rows = con.execute(
            "SELECT metadata->>'source_difficulty', difficulty FROM problems ORDER BY question"
        ).fetchall()
    assert sorted(rows, key=str) == sorted(
        [("1.5", None), ("3", None), ("5.5", None), ("6", None), ("9", None), (None, None)], key=str
    )
    result = run_cli("ingest", str(scale), "--catalog", str(catalog), "--difficulty-from-source", "scale:3,6")
    assert result.returncode == 0 and "difficulty set from the source" in result.stdout
    with Catalog.open(catalog).reader() as con:
        got = dict(con.execute("SELECT question, difficulty FROM problems").fetchall())
    assert got == {"Scaled 1.5?": "easy", "Scaled 3?": "medium", "Scaled 5.5?": "medium", "Scaled 6?": "hard",
                   "Scaled 9?": "hard", "No difficulty?": None}  # fmt: skip

    rates = write_jsonl(
        tmp_path / "rates.jsonl",
        [{"question": f"Rate {v}?", "answer": "1", "pass_rate": v} for v in (0.1, 0.5, 0.9)],
    )
    with Catalog.open(catalog).writer() as con:  # a measured difficulty is never overwritten
        con.execute("UPDATE problems SET difficulty = 'hard' WHERE question = 'Scaled 1.5?'")
    result = run_cli(
        "ingest", str(rates), "--catalog", str(catalog), "--difficulty-from-source", "pass-rate", "-f", "json"
    )
    assert json.loads(result.stdout)["rated_from_source"] == 3
    with Catalog.open(catalog).reader() as con:
        got = dict(con.execute("SELECT question, difficulty FROM problems").fetchall())
    assert (got["Rate 0.1?"], got["Rate 0.5?"], got["Rate 0.9?"], got["Scaled 1.5?"]) == (
        "hard",
        "medium",
        "easy",
        "hard",
    )


@pytest.mark.parametrize("rule", ["scale", "scale:5", "scale:6,3", "pass-rate:0.2,1.5", "level:1,2"])
def test_bad_source_difficulty_rules_are_refused(tmp_path, rule):
    source = write_jsonl(tmp_path / "x.jsonl", [{"question": "q?", "answer": "1"}])
    result = run_cli(
        "ingest", str(source), "--catalog", str(tmp_path / "c.duckdb"), "--difficulty-from-source", rule
    )
    assert result.returncode == 2 and "--difficulty-from-source" in result.stderr
