"""Gold verification over a catalog: batches, statuses written, re-runs, selection options."""

from __future__ import annotations

import pytest

from srpo.catalog import Problem, make_problem_id
from srpo.catalog import problems as problem_store
from srpo.catalog.verification import VerifySelection, golds_for
from srpo.errors import InputError
from srpo.verify.config import GraderConfig
from srpo.verify.verify_catalog import VerifyConfig, verify_catalog

ONE_WORKER = GraderConfig(workers=1, timeout_s=10.0)


def _problem(
    index: int,
    answer: str,
    *,
    solution: str | None = None,
    question: str | None = None,
    source: str = "demo",
    domain: str = "math",
) -> Problem:
    return Problem(
        source=source, split="test", source_index=str(index), domain=domain,
        question=question or f"Question number {index}: what is $x$?", row_hash=f"h{index}",
        answer=answer, solution=solution,
    )  # fmt: skip


@pytest.fixture
def filled(catalog):
    problems = [
        _problem(1, "5", solution="so $\\boxed{5}$"),
        _problem(2, "3", solution="so $\\boxed{4}$"),
        _problem(3, "3 or 5"),
        _problem(4, "\\frac{1}{", source="other"),
        _problem(5, "12"),
        _problem(6, None, domain="code", question="Write a function."),
    ]
    with catalog.writer() as con:
        problem_store.insert_new(con, problems)
    return catalog


def _statuses(catalog) -> dict[str, tuple[str, str | None]]:
    with catalog.reader() as con:
        rows = con.execute("SELECT source_index, verify_status, verify_reason FROM problems").fetchall()
    return {index: (status, reason) for index, status, reason in rows}


def test_verify_writes_a_status_and_a_reason_for_every_math_problem(filled):
    report = verify_catalog(filled, VerifyConfig(grader=ONE_WORKER, batch_size=2))
    statuses = _statuses(filled)
    assert {k: v[0] for k, v in statuses.items()} == {
        "1": "verified", "2": "wrong", "3": "ambiguous", "4": "unverifiable", "5": "verified",
        "6": "unverifiable",  # a code problem with neither tests nor a reference solution
    }  # fmt: skip
    assert statuses["2"][1].startswith("gold.disagrees_with_solution")
    assert report.checked == 6
    assert report.by_source["demo"]["verified"] == 2
    assert report.examples[("wrong", "gold.disagrees_with_solution")][0].source_index == "2"


def test_a_rerun_only_picks_pending_problems_unless_asked_to_recheck(filled):
    verify_catalog(filled, VerifyConfig(grader=ONE_WORKER))
    again = verify_catalog(filled, VerifyConfig(grader=ONE_WORKER))
    assert again.checked == 0
    recheck = verify_catalog(filled, VerifyConfig(selection=VerifySelection(recheck=True), grader=ONE_WORKER))
    assert recheck.checked == 6


def test_selection_by_source_where_and_limit(filled):
    only_other = VerifySelection(sources=("other",))
    assert verify_catalog(filled, VerifyConfig(selection=only_other, grader=ONE_WORKER)).checked == 1
    where = VerifySelection(where="answer = '12'")
    assert verify_catalog(filled, VerifyConfig(selection=where, grader=ONE_WORKER)).checked == 1
    limited = verify_catalog(filled, VerifyConfig(selection=VerifySelection(limit=2), grader=ONE_WORKER))
    assert limited.checked == 2
    with filled.writer() as con:
        con.execute("UPDATE problems SET clean_status = 'rejected', verify_status = 'pending'")
    assert verify_catalog(filled, VerifyConfig(grader=ONE_WORKER)).checked == 0
    everything = VerifySelection(include_rejected=True)
    assert verify_catalog(filled, VerifyConfig(selection=everything, grader=ONE_WORKER)).checked == 6
    with pytest.raises(InputError, match="--where"):
        verify_catalog(filled, VerifyConfig(selection=VerifySelection(where="no_such_column = 1")))
    with pytest.raises(InputError, match="--domain"):
        VerifySelection(domains=("poetry",)).validate()


def test_golds_for_prefers_kept_verified_rows(filled):
    pid = make_problem_id("math", _problem(1, "5").question)
    with filled.reader() as con:
        found = golds_for(con, [pid, "missing"])
    assert set(found) == {pid} and found[pid].answer == "5"


def test_code_reference_solutions_run_in_the_sandbox(catalog):
    from srpo.catalog.testspec import StdioCase, StdioTests

    tests = StdioTests(cases=(StdioCase("2 3\n", "5\n"), StdioCase("1 1\n", "2\n")))
    problems = [
        Problem(source="code", split="test", source_index=str(i), domain="code", question=f"Add {i}.",
                row_hash=str(i), solution=solution, tests=tests)
        for i, solution in enumerate([
            "a, b = map(int, input().split())\nprint(a + b)",
            "a, b = map(int, input().split())\nprint(a * b)",
            None,
        ])
    ]  # fmt: skip
    with catalog.writer() as con:
        problem_store.insert_new(con, problems)
    report = verify_catalog(catalog, VerifyConfig(grader=ONE_WORKER))
    statuses = _statuses(catalog)
    assert report.checked == 3
    assert statuses["0"][0] == "verified"
    assert statuses["1"] == ("wrong", "code.wrong: case 0: wrong output (bwrap)")  # 2*3 != 5
    assert statuses["2"][0] == "unverifiable"
