"""srpo's TRL reward functions called the way `GRPOTrainer` calls them (prompts, completions,
completion_ids, every dataset column as a keyword, trainer_state, log_extra, log_metric), and
the completion log they feed."""

from __future__ import annotations

import json
from types import SimpleNamespace

from srpo.integrations.config import RunConfig
from srpo.integrations.recorder import RunRecorder
from srpo.integrations.trl import CompletionLog, TRLRewards, code_reward, math_reward, srpo_reward
from srpo.integrations.trl.rewards import completion_text
from srpo.train.config import DataConfig
from srpo.verify.config import GraderConfig

from .conftest import HELLO, problem_ids, query

TESTS = json.dumps({"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]})


def _call(function, completions, **columns):
    n = len(completions)
    extras = {"trainer_state": SimpleNamespace(global_step=4), "log_extra": print, "log_metric": print}
    return function(
        prompts=["p"] * n, completions=completions, completion_ids=[[1] * 3] * n, **columns, **extras
    )


def test_each_function_grades_its_domain_and_leaves_the_other_none():
    columns = {"answer": ["7", "7", None, None], "tests": [None, None, TESTS, TESTS],
               "domain": ["math", "math", "code", "code"], "problem_id": ["a", "a", "b", "b"]}  # fmt: skip
    completions = ["\\boxed{7}", "\\boxed{8}", HELLO, "no code"]
    assert _call(math_reward, completions, **columns) == [1.0, 0.0, None, None]
    assert _call(code_reward, completions, **columns) == [None, None, 1.0, 0.0]
    assert _call(srpo_reward, completions, **columns) == [1.0, 0.0, 1.0, 0.0]
    # Conversational completions (chat messages), numbers as golds, no domain column.
    chat = [
        [{"role": "assistant", "content": "so \\boxed{12}"}],
        [{"role": "assistant", "content": [{"type": "text", "text": HELLO}]}],
    ]
    assert _call(srpo_reward, chat, answer=[12.0, None], tests=[None, TESTS]) == [1.0, 1.0]
    assert completion_text([{"role": "user", "content": "q"}]) == ""


def test_a_missing_gold_comes_from_the_catalog(toy_catalog):
    ids = problem_ids(toy_catalog)
    rewards = TRLRewards(GraderConfig(workers=1), catalog=str(toy_catalog.path))
    got = _call(rewards.srpo_reward, ["\\boxed{7}", "\\boxed{7}", HELLO, "\\boxed{7}"],
                problem_id=[ids["seven0"], ids["eight0"], ids["code"], "not-there"])  # fmt: skip
    assert got == [1.0, 0.0, 1.0, 0.0]


def test_each_completion_is_logged_once_with_its_step_and_length(toy_catalog):
    ids = problem_ids(toy_catalog)
    config = RunConfig(catalog=str(toy_catalog.path), run_id="trl-unit", write_interval_s=0.0,
                       data=DataConfig(include_unrated=True))  # fmt: skip
    recorder = RunRecorder(config, kind="trl")
    log = CompletionLog(recorder, catalog_path=toy_catalog.path, run_id="trl-unit")
    log.max_completion_length = 3
    rewards = TRLRewards(GraderConfig(workers=1), log=log)
    completions = ["\\boxed{7}", HELLO, "\\boxed{8}"]
    columns = {"answer": ["7", None, "7"], "tests": [None, TESTS, None], "domain": ["math", "code", "math"],
               "problem_id": [ids["seven0"], ids["code"], None]}  # fmt: skip
    # Both functions of one batch see the same list: each completion is recorded once.
    _call(rewards.math_reward, completions, **columns)
    _call(rewards.code_reward, completions, **columns)
    _call(rewards.srpo_reward, completions, **columns)
    log.train_end()
    rows = query(toy_catalog, "SELECT problem_id, sample_idx, step, reward, status, response_tokens, finish_reason "
                              "FROM rollouts WHERE run_id = 'trl-unit' ORDER BY problem_id")  # fmt: skip
    assert sorted(rows) == sorted([(ids["seven0"], 0, 5, 1.0, "correct", 3, "length"),
                                   (ids["code"], 0, 5, 1.0, "correct", 3, "length")])  # fmt: skip
    ((status, notes),) = query(toy_catalog, "SELECT status, notes FROM runs WHERE run_id = 'trl-unit'")
    assert status == "completed" and json.loads(notes) == {"unrecorded_completions": 1}
