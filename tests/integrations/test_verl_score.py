"""verl's `compute_score` on rows of `srpo-curate query --export verl`, called with the argument
shapes verl's reward managers use, gives the verdicts `srpo-curate grade` gives on the same
responses (math and code: stdio, call and assert tests)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from srpo.catalog import Catalog
from srpo.integrations.verl import compute_score, compute_score_batch
from tests.helpers import run_cli, write_jsonl

ROWS = [
    {"id": "seven", "question": "What is 3 + 4?", "answer": "7"},
    {"id": "half", "question": "What is 1 divided by 2?", "answer": "\\frac{1}{2}"},
    {"id": "poly", "question": "Expand (x + 1)^2 - 2x.", "answer": "x^2 + 1"},
    {"id": "interval", "question": "For which x is x^2 < 4?", "answer": "(-2, 2)"},
    {"id": "hello", "domain": "code", "question": "Print hello.",
     "tests": {"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]}},
    {"id": "add", "domain": "code", "question": "Write add(a, b) returning the sum.",
     "tests": {"type": "call", "fn_name": "add", "cases": [{"args": [1, 2], "expected": 3}, {"args": [5, 5], "expected": 10}]}},
    {"id": "double", "domain": "code", "question": "Write double(n) returning 2n.",
     "tests": {"type": "assert", "code": "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(0) == 0\n", "entry_point": "double"}},
]  # fmt: skip


def _code(body: str) -> str:
    return f"Here it is.\n```python\n{body}\n```"


LOOP = _code("while True:\n    pass")
RESPONSES = {
    "seven": ["So \\boxed{7}.", "\\boxed{8}", "I am not sure.", "The final answer is 7", "\\boxed{}"],
    "half": ["\\boxed{0.5}", "\\boxed{\\dfrac{2}{4}}", "\\boxed{0.33}", "\\boxed{1/2}"],
    "poly": ["\\boxed{1 + x^2}", "\\boxed{x^2 + 2x + 1}", "\\boxed{(x+1)^2 - 2x}"],
    "interval": ["\\boxed{(-2, 2)}", "\\boxed{[-2, 2]}", "\\boxed{-2 < x < 2}"],
    "hello": [_code("print('hello')"), _code("print('hi')"), "no code at all", LOOP, _code("raise SystemExit(3)")],
    "add": [_code("def add(a, b):\n    return a + b"), _code("def add(a, b):\n    return a - b"),
            _code("def add(a, b):\n    return str(a + b)"), LOOP],
    "double": [_code("def double(n):\n    return 2 * n"), _code("def double(n):\n    return n + 2"),
               _code("import os\nos._exit(0)")],
}  # fmt: skip
GRADER = {"workers": 2, "timeout_s": 3.0}  # generous: a loaded machine must not turn a pass into a timeout


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A catalog of ROWS and its verl export (read back from parquet, as verl reads it)."""
    from srpo.curate.ingest import IngestOptions, ingest

    tmp = tmp_path_factory.mktemp("verl")
    catalog = Catalog.open(tmp / "catalog.duckdb", create=True)
    ingest(catalog, IngestOptions(location=str(write_jsonl(tmp / "toy.jsonl", ROWS))))
    out = tmp / "train.parquet"
    result = run_cli("query", "--catalog", str(catalog.path), "--export", "verl", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = pq.read_table(out).to_pylist()
    with catalog.reader() as con:
        index = dict(con.execute("SELECT problem_id, source_index FROM problems").fetchall())
    return catalog, {index[row["extra_info"]["problem_id"]]: row for row in rows}, tmp


def _verl_extra(row: dict) -> dict:
    # What verl's reward managers pass: the row's extra_info plus two keys of their own.
    return {**row["extra_info"], "num_turns": None, "rollout_reward_scores": {}}


def test_the_export_routes_to_srpo(exported):
    _, rows, _ = exported
    assert len(rows) == len(ROWS)
    for name, row in rows.items():
        assert row["data_source"] == "srpo/toy"
        assert (
            row["extra_info"]["domain"]
            == row["ability"]
            == ("code" if name in {"hello", "add", "double"} else "math")
        )
        assert row["extra_info"]["problem_id"]


def test_compute_score_agrees_with_srpo_curate_grade(exported):
    catalog, rows, tmp = exported
    cases = [(name, response) for name, responses in RESPONSES.items() for response in responses]
    lines = [
        {"id": i, "problem_id": rows[name]["extra_info"]["problem_id"], "domain": rows[name]["ability"], "response": response}
        for i, (name, response) in enumerate(cases)
    ]  # fmt: skip
    graded_path = tmp / "graded.jsonl"
    result = run_cli(
        "grade", "--catalog", str(catalog.path), "--in", str(write_jsonl(tmp / "responses.jsonl", lines)),
        "--out", str(graded_path), "--workers", "2", "--timeout", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    graded = [json.loads(line) for line in graded_path.read_text().splitlines()]
    scores = [
        compute_score(
            data_source=rows[name]["data_source"], solution_str=response,
            ground_truth=rows[name]["reward_model"]["ground_truth"], extra_info=_verl_extra(rows[name]), grader=GRADER,
        )
        for name, response in cases
    ]  # fmt: skip
    ours = [(s["score"], s["grade_status"]) for s in scores]
    theirs = [(g["reward"], g["status"]) for g in graded]
    assert ours == theirs
    # The set covers every verdict that matters, not only the easy ones.
    verdicts = {status for _, status in theirs}
    assert {"correct", "wrong", "no_answer", "passed", "failed", "timeout", "no_code"} <= verdicts, verdicts
    assert 0 < sum(reward for reward, _ in ours) < len(ours)
    for score in scores:
        assert score["acc"] == (1.0 if score["status"] == "correct" else 0.0)
        assert score["status"] in {"correct", "wrong", "no_answer", "timeout", "error"}


def test_the_batch_call_and_the_catalog_lookup_give_the_same_scores(exported):
    catalog, rows, _ = exported
    cases = [(name, response) for name, responses in RESPONSES.items() for response in responses[:2]]
    single = [
        compute_score(rows[n]["data_source"], r, rows[n]["reward_model"]["ground_truth"], _verl_extra(rows[n]),
                      grader=GRADER)
        for n, r in cases
    ]  # fmt: skip
    batch = compute_score_batch(
        data_sources=[rows[n]["data_source"] for n, _ in cases], solution_strs=[r for _, r in cases],
        ground_truths=[rows[n]["reward_model"]["ground_truth"] for n, _ in cases],
        extra_infos=[_verl_extra(rows[n]) for n, _ in cases], grader=GRADER,
    )  # fmt: skip
    assert batch == single
    # No ground truth in the row: the gold (or the tests) come from the catalog by problem id.
    looked_up = [
        compute_score(rows[n]["data_source"], r, None, _verl_extra(rows[n]), catalog=str(catalog.path), grader=GRADER)
        for n, r in cases
    ]  # fmt: skip
    assert looked_up == single


def test_rows_that_are_not_srpos_are_not_guessed():
    with pytest.raises(ValueError, match="data_source 'openai/gsm8k'"):
        compute_score("openai/gsm8k", "\\boxed{7}", "7", {})
    # Without a gold, nor a catalog problem: an error grade, never a reward.
    missing = compute_score("srpo/toy", "\\boxed{7}", None, {"domain": "math"})
    assert (missing["score"], missing["status"]) == (0.0, "error")
