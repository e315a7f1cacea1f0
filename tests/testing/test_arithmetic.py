"""The arithmetic task family: right golds and worked answers, graded kinds, disjoint splits, rows
srpo ingests, prompts as the engines build them, and the experiment's result lines."""

from __future__ import annotations

import json
import random
import re

import pytest

from srpo.testing.arithmetic import (
    KINDS,
    Slips,
    SplitSizes,
    facts,
    make_problem,
    make_splits,
    taught_pairs,
    write_rows,
)
from srpo.testing.arithmetic_policy import PROMPT, PROMPT_SETTINGS, prompt_for
from srpo.testing.experiment_results import ArmResult, mean_and_spread, parse_result_lines, result_lines

SMALL = SplitSizes(sft_math=70, sft_code=35, train_math=35, train_code=14, heldout_math=35, heldout_code=14)


@pytest.mark.parametrize("kind", list(KINDS))
def test_golds_and_worked_steps_agree_with_python(kind):
    rng = random.Random(kind)
    for _ in range(50):
        problem = make_problem(kind, "math", rng)
        assert eval(problem.expression) == problem.value  # our own arithmetic
        for step in problem.steps:  # one operation done per step, the rest rewritten: same value
            assert eval(step) == problem.value
        answer = problem.worked_answer()
        assert answer == "=".join((problem.expression, *problem.steps)) + f". \\boxed{{{problem.value}}}"
        assert len(problem.steps) == int(kind[-1])
        assert all(0 <= int(re.match(r"\d+", step).group()) <= 9 for step in problem.steps)


def test_every_step_of_every_problem_is_a_fact_and_no_problem_is_one():
    known = {p.expression: p.value for p in facts()}
    assert len(known) == len(facts()) and all(eval(e) == v for e, v in known.items())
    splits = make_splits(SMALL, seed=2)
    for problem in [*splits.train, *splits.heldout_math, *splits.heldout_code, *splits.sft]:
        assert problem.expression not in known  # held-out problems are compositions, not facts
        previous = problem.expression
        for step in problem.steps:  # the step did the first operation of the previous rewrite
            first = re.match(r"\d+[-+]\d+", previous).group()
            assert first in known and step.startswith(str(known[first]))
            previous = step


def test_direct_answers_and_programs():
    math, code = (
        make_problem("sum_2", "math", random.Random(3)),
        make_problem("sum_2", "code", random.Random(3)),
    )
    assert math.worked_answer(direct=True) == f"\\boxed{{{math.value}}}"
    assert code.worked_answer() == f"```python\nprint({code.expression})\n```"
    assert code.worked_answer(direct=True) == f"```python\nprint({code.value})\n```"
    row = code.row("c1")
    assert row["tests"] == {"type": "stdio", "cases": [{"input": "", "output": f"{code.value}\n"}]}
    assert row["solution"] == f"print({code.expression})" and "answer" not in row


def test_slipped_steps_are_off_by_one_and_the_working_carries_on_from_them():
    rng = random.Random(4)
    for _ in range(30):
        problem = make_problem("sum_4", "math", rng)
        value, steps = Slips(1.0, random.Random(5)).rework(problem.expression)  # every step slips
        previous = problem.expression
        for step in steps:
            done = re.match(r"-?\d+[-+]\d+", previous).group()  # the operation this step did
            written = re.match(r"-?\d+", step).group()
            assert abs(int(written) - eval(done)) == 1  # one off, from what was written before
            assert step[len(written) :] == previous[len(done) :]  # the rest rewritten unchanged
            previous = step
        assert value == int(steps[-1])
        answer = problem.worked_answer(slips=Slips(1.0, random.Random(5)))
        assert answer == "=".join((problem.expression, *steps)) + f". \\boxed{{{value}}}"
    problem = make_problem("sum_3", "math", rng)
    assert Slips(0.0, random.Random(6)).rework(problem.expression) == (problem.value, problem.steps)


def test_taught_answers_mix_direct_and_worked_at_the_share_asked():
    splits = make_splits(SMALL, seed=1)
    taught = taught_pairs(splits.sft * 4, direct_share=0.8, seed=2)
    direct = [a for p, a in taught if a in (p.worked_answer(direct=True),)]
    assert 0.7 < len(direct) / len(taught) < 0.9
    assert all(a == p.worked_answer() for p, a in taught_pairs(splits.sft, direct_share=0.0))
    assert all(a == p.worked_answer(direct=True) for p, a in taught_pairs(splits.sft, direct_share=1.0))


def test_rows_ingest_and_verify_as_kept_verified_problems(tmp_path, catalog):
    from srpo.curate.ingest import IngestOptions, ingest
    from srpo.verify.config import GraderConfig
    from srpo.verify.verify_catalog import VerifyConfig, verify_catalog

    splits = make_splits(SMALL, seed=0)
    path = tmp_path / "train.jsonl"
    assert write_rows(path, splits.train, prefix="t") == 49
    first = json.loads(path.read_text().splitlines()[0])
    assert first["id"] == "t0" and first["question"] == splits.train[0].question
    ingest(catalog, IngestOptions(location=str(path), source="arith"))
    verify_catalog(catalog, VerifyConfig(grader=GraderConfig(workers=1)))
    with catalog.reader() as con:
        rows = con.execute("SELECT question, clean_status, verify_status FROM problems").fetchall()
    assert len(rows) == 49 and {(status, verified) for _, status, verified in rows} == {("kept", "verified")}
    assert {question for question, _, _ in rows} == {p.question for p in splits.train}  # stored as written


def test_prompts_are_the_question_and_a_newline():
    from srpo.config import build
    from srpo.rollout.prompts import PromptTemplate

    rng = random.Random(0)
    assert prompt_for(make_problem("sum_2", "math", rng)).text.endswith("?\n")
    code = prompt_for(make_problem("sum_2", "code", rng)).text
    assert code.startswith("Write a program that prints") and "standard input" in code
    assert build(PromptTemplate, PROMPT_SETTINGS) == PROMPT  # the settings the commands get


def test_result_lines_round_trip_with_means_and_spread():
    first = ArmResult(accuracy_before=0.4, accuracy_after=0.7, code_accuracy_after=0.5, rollouts_generated=3072,
                      rollouts_trained=2048, zero_std_share=0.25, seconds=120.5)  # fmt: skip
    second = ArmResult(accuracy_before=0.4, accuracy_after=0.6, code_accuracy_after=0.55, rollouts_generated=3072,
                       rollouts_trained=2048, zero_std_share=0.35, seconds=130.5)  # fmt: skip
    assert first.line("dynamic") == (
        "result dynamic: accuracy_before=0.400 accuracy_after=0.700 code_accuracy_after=0.500 "
        "rollouts_generated=3072 rollouts_trained=2048 zero_std_share=0.250 seconds=120.500"
    )
    lines = result_lines({"history": [first, second], "uniform": [first]})
    assert [line.split(":")[0] for line in lines] == ["result uniform", "result history", "spread history"]
    text = "noise\n" + "\n".join(lines) + "\nexperiment: done"
    parsed = parse_result_lines(text)
    assert set(parsed) == {"uniform", "history"} and parsed["uniform"] == first
    assert parsed["history"].accuracy_after == pytest.approx(0.65)
    assert parse_result_lines(text, kind="spread")["history"].zero_std_share == pytest.approx(
        0.0707, abs=1e-3
    )
    assert mean_and_spread([first])[1].accuracy_after == 0.0
    with pytest.raises(ValueError, match="no code_accuracy_after="):
        parse_result_lines("result history: accuracy_before=0.1 accuracy_after=0.2")


@pytest.mark.slow
def test_the_base_policy_is_built_taught_and_answers_in_the_taught_format(tmp_path):
    from dataclasses import replace

    from srpo.rollout import SamplingConfig, create_engine, engine_config
    from srpo.testing.arithmetic_policy import PolicyOptions, build_base_policy
    from srpo.testing.sft import SftOptions

    options = PolicyOptions()
    options = replace(options, model=replace(options.model, num_hidden_layers=1),
                      worked=SftOptions(steps=40, batch_size=32), habit=SftOptions(steps=10, batch_size=32))  # fmt: skip
    splits = make_splits(SMALL, seed=0)
    summary = build_base_policy(tmp_path / "policy", splits.sft, options)
    assert summary["steps"] == 50 and summary["loss_habit"] < 4.0  # from ln(vocabulary) = 6: it learnt
    assert json.loads((tmp_path / "policy" / "teaching.json").read_text()) == summary
    assert 100_000 < summary["parameters"] < 5_000_000
    problem = splits.heldout_math[0]
    config = engine_config("transformers", model=str(tmp_path / "policy"), device="cpu")
    with create_engine(config) as engine:
        [completion] = engine.generate(
            [prompt_for(problem)], SamplingConfig(n=1, temperature=0, max_new_tokens=48)
        )
    assert completion.prompt_token_ids and completion.samples[0].token_ids  # digits: one token each
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "policy")
    assert len(tokenizer("1234")["input_ids"]) == 4
