"""History resampling as SQL: eligible problems, the outcome of their last epoch, drop/keep/return,
the stage-2 domain mix, epoch size, determinism."""

from __future__ import annotations

from collections import Counter

import pytest

from srpo.catalog.records import utcnow
from srpo.catalog.rollouts import RolloutRow, insert_rollouts
from srpo.catalog.runs import start_run
from srpo.errors import InputError
from srpo.train.config import DataConfig
from srpo.train.resampling import next_epoch_plan, plan_epoch, problem_texts

RUN = "train-test"


def add_problem(
    con, pid: str, *, domain: str = "math", source: str = "s", index: str | None = None, **columns
):
    values = {
        "problem_id": pid,
        "source": source,
        "split": "train",
        "source_index": index or pid,
        "domain": domain,
        "question": f"question {pid}",
        "answer": "1",
        "row_hash": pid,
        "clean_status": "kept",
        "verify_status": "verified",
        "difficulty": "hard",
        "created_at": utcnow(),
        "updated_at": utcnow(),
        **columns,
    }
    names = ", ".join(values)
    con.execute(
        f"INSERT INTO problems ({names}) VALUES ({', '.join('?' for _ in values)})", list(values.values())
    )


def add_rollouts(con, pid: str, epoch: int, correct: list[bool]) -> None:
    insert_rollouts(
        con,
        [
            RolloutRow(
                run_id=RUN,
                problem_id=pid,
                sample_idx=i,
                reward=float(ok),
                status="correct" if ok else "wrong",
                response_tokens=3,
                finish_reason="stop",
                epoch=epoch,
                stage=1,
                step=epoch + 1,
            )
            for i, ok in enumerate(correct)
        ],
    )


@pytest.fixture
def filled(catalog):
    with catalog.writer() as con:
        for pid in ("solved", "mixed", "wrong", "fresh"):
            add_problem(con, pid)
        add_problem(con, "solved", source="other")  # same problem from a second source
        add_problem(con, "medium", difficulty="medium")
        add_problem(con, "easy", difficulty="easy")
        add_problem(con, "unrated", difficulty=None)
        add_problem(con, "pending", verify_status="pending")
        add_problem(con, "rejected", clean_status="rejected", reject_reason="math.proof")
        add_problem(con, "leaked", contaminated_with="math500")
        add_problem(con, "bench", source="math500", benchmark="math500")
        add_problem(con, "bench", source="train-copy")  # a training copy of a benchmark problem
        for i in range(3):
            add_problem(con, f"code{i}", domain="code")
        start_run(con, RUN, kind="train", model="m", config={})
        add_rollouts(con, "solved", 0, [True, True, True])
        add_rollouts(con, "mixed", 0, [True, False, True])
        add_rollouts(con, "wrong", 0, [False, False, False])
    return catalog


def plan(catalog, epoch: int, stage: int = 1, seed: int = 0, **data):
    with catalog.reader() as con:
        return plan_epoch(con, DataConfig(**data), run_id=RUN, epoch=epoch, stage=stage, seed=seed)


def test_eligible_problems_and_their_history(filled):
    first = plan(filled, 0)
    assert sorted(p.problem_id for p in first.problems) == ["fresh", "medium", "mixed", "solved", "wrong"]
    assert {p.history for p in first.problems} == {"new"}  # epoch 0 sees no earlier rollouts
    second = plan(filled, 1)
    histories = {p.problem_id: p.history for p in second.problems}
    assert histories == {"mixed": "mixed", "wrong": "all_wrong", "fresh": "new", "medium": "new"}
    assert second.dropped == 1 and second.counts()["dropped"] == 1
    assert [p.position for p in second.judged if p.problem_id == "solved"] == [None]


def test_dropped_problems_stay_out_or_return(filled):
    # Not sampled in epoch 1 (dropped): epoch 2 still judges it by epoch 0, its latest epoch.
    assert "solved" not in {p.problem_id for p in plan(filled, 2).problems}
    back = plan(filled, 2, return_after_epochs=1)  # sat out epoch 1: back in epoch 2
    assert {p.problem_id: p.history for p in back.problems}["solved"] == "returned"
    assert "solved" not in {p.problem_id for p in plan(filled, 1, return_after_epochs=1).problems}
    plain = plan(filled, 1, drop_solved=False)  # plain GRPO keeps everything
    assert {p.problem_id: p.history for p in plain.problems}["solved"] == "solved"


def test_selection_filters(filled):
    ids = {
        p.problem_id for p in plan(filled, 0, include_unrated=True, difficulties=("easy", "hard")).problems
    }
    assert ids == {"solved", "mixed", "wrong", "fresh", "easy", "unrated"}
    ids = {p.problem_id for p in plan(filled, 0, verified_only=False).problems}
    assert "pending" in ids and not {"rejected", "leaked", "bench"} & ids
    assert {p.problem_id for p in plan(filled, 0, sources=("other",)).problems} == {"solved"}
    assert {p.problem_id for p in plan(filled, 0, where="problem_id LIKE 'm%'").problems} == {
        "medium",
        "mixed",
    }
    with pytest.raises(InputError, match=r"data\.where"):
        plan(filled, 0, where="no_such_column = 1")


def test_stage_two_adds_code_with_a_mix_ratio(filled):
    assert Counter(p.domain for p in plan(filled, 1, stage=2).problems) == {"math": 4, "code": 3}
    # code share 0.2 of 4 math problems: one code problem (floor(4 * 0.2 / 0.8))
    assert Counter(p.domain for p in plan(filled, 1, stage=2, code_share=0.2).problems) == {
        "math": 4,
        "code": 1,
    }
    # code share 0.75 with 3 code problems: one math problem (floor(3 * 0.25 / 0.75))
    assert Counter(p.domain for p in plan(filled, 1, stage=2, code_share=0.75).problems) == {
        "math": 1,
        "code": 3,
    }
    assert Counter(p.domain for p in plan(filled, 1, stage=2, code_share=1.0).problems) == {"code": 3}
    assert plan(filled, 1, stage=2, code_share=0.2).subsampled == 2


def test_order_is_deterministic_per_seed_and_epoch(filled):
    order = [p.problem_id for p in plan(filled, 3, stage=2).problems]
    assert order == [p.problem_id for p in plan(filled, 3, stage=2).problems]
    orders = {tuple(p.problem_id for p in plan(filled, 3, stage=2, seed=s).problems) for s in range(6)}
    assert len(orders) > 1  # the seed shuffles
    limited = plan(filled, 3, stage=2, epoch_size=3).problems
    assert [p.problem_id for p in limited] == order[:3]


def test_problem_texts_take_one_kept_occurrence(filled):
    with filled.reader() as con:
        texts = problem_texts(con, ["solved", "code1"])
    assert set(texts) == {"solved", "code1"} and texts["code1"].domain == "code"


def test_next_epoch_needs_a_training_run(filled):
    with filled.reader() as con, pytest.raises(InputError, match="no training run"):
        next_epoch_plan(con, "nope")
