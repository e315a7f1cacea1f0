"""DAPO dynamic sampling's rounds, on scripted groups (no model): what is kept, when a step samples
again, and what stops it (a full batch, the round limit, the rollout budget, the epoch's end)."""

from __future__ import annotations

import pytest

from srpo.config import load_config
from srpo.errors import InputError
from srpo.train.config import TrainConfig
from srpo.train.dynamic import Drawn, draw_all, draw_dynamic, informative
from srpo.train.resampling import ProblemText
from srpo.train.rollouts import Rollout, RolloutBatch

GROUP = 4
# How many of a problem's four samples are right: 0 and 4 give no gradient, 1-3 do.
OUTCOMES = {"solved": 4, "wrong": 0, "mixed": 2, "rare": 1}


def problem(name: str) -> ProblemText:
    return ProblemText(name, "math", f"question {name}", "1", None, None)


def group(name: str) -> list[Rollout]:
    right = OUTCOMES[name.split("-")[0]]
    return [
        Rollout(problem_id=name, domain="math", sample_idx=i, prompt_ids=(1,), response_ids=(2, 3),
                text="", finish_reason="stop", reward=float(i < right),
                status="correct" if i < right else "wrong", extracted=None)
        for i in range(GROUP)
    ]  # fmt: skip


class Scripted:
    """A sampler that answers from OUTCOMES, and an epoch of problems to take from."""

    def __init__(self, epoch: list[str]) -> None:
        self.epoch = [problem(name) for name in epoch]
        self.rounds: list[list[str]] = []

    def sample(self, problems, round_index: int) -> RolloutBatch:
        assert round_index == len(self.rounds)
        self.rounds.append([p.problem_id for p in problems])
        return RolloutBatch(rollouts=[r for p in problems for r in group(p.problem_id)])

    def more(self, count: int) -> list[ProblemText]:
        taken, self.epoch = self.epoch[:count], self.epoch[count:]
        return taken


def draw(first: list[str], rest: list[str], *, wanted: int = 3, max_rounds: int = 5, budget=None):
    script = Scripted(rest)
    drawn = draw_dynamic(script.sample, [problem(n) for n in first], more=script.more, wanted=wanted,
                         group_size=GROUP, max_rounds=max_rounds, budget_left=budget)  # fmt: skip
    return drawn, script


def kept_problems(drawn: Drawn) -> list[str]:
    return list(dict.fromkeys(r.problem_id for r in drawn.kept))


def test_only_groups_with_right_and_wrong_answers_are_informative():
    assert [informative(group(name)) for name in OUTCOMES] == [False, False, True, True]


def test_a_step_samples_the_epochs_next_problems_until_its_batch_is_full():
    drawn, script = draw(["solved-a", "mixed-a", "wrong-a"], ["rare-a", "solved-b", "mixed-b", "mixed-c"])
    # Round 1 keeps one of three: two more wanted; round 2 keeps one of two; round 3 one of one.
    assert script.rounds == [["solved-a", "mixed-a", "wrong-a"], ["rare-a", "solved-b"], ["mixed-b"]]
    assert kept_problems(drawn) == ["mixed-a", "rare-a", "mixed-b"]
    assert script.epoch == [problem("mixed-c")]  # not taken: the batch was full
    assert (drawn.rounds, drawn.generated, drawn.trained_total) == (3, 6 * GROUP, 3 * GROUP)
    assert len(drawn.rollouts) == len(drawn.trained) == 6 * GROUP
    counts = drawn.counts(generated_total=100, trained_total=50)
    assert counts == {"rollouts/generated": 24, "rollouts/trained": 12, "rollouts/generated_total": 100,
                      "rollouts/trained_total": 50, "rollouts/rounds": 3}  # fmt: skip


def test_the_round_limit_ends_a_step_with_the_groups_it_kept():
    drawn, script = draw(["solved-a", "wrong-a", "mixed-a"], ["solved-b", "wrong-b", "mixed-b"], max_rounds=2)
    assert len(script.rounds) == 2 and kept_problems(drawn) == ["mixed-a"]
    assert drawn.trained == [False] * 4 + [False] * 4 + [True] * 4 + [False] * 8


def test_no_round_goes_past_the_rollout_budget():
    # 12 groups' worth of rollouts was generated in round 1; the budget leaves room for one more group.
    drawn, script = draw(["solved-a", "wrong-a", "solved-c"], ["mixed-a", "mixed-b"], budget=4 * GROUP)
    assert script.rounds[1:] == [["mixed-a"]] and drawn.generated == 4 * GROUP
    drawn, script = draw(["solved-a", "wrong-a", "solved-c"], ["mixed-a"], budget=3 * GROUP + 3)
    assert len(script.rounds) == 1 and drawn.trained_total == 0  # nothing kept: the step learns nothing


def test_the_epochs_end_ends_a_step():
    drawn, script = draw(["solved-a", "mixed-a", "wrong-a"], ["mixed-b"])
    assert script.rounds == [["solved-a", "mixed-a", "wrong-a"], ["mixed-b"]]
    assert kept_problems(drawn) == ["mixed-a", "mixed-b"] and drawn.rounds == 2


def test_other_modes_sample_once_and_train_on_everything():
    script = Scripted([])
    drawn = draw_all(script.sample, [problem("solved-a"), problem("mixed-a")])
    assert script.rounds == [["solved-a", "mixed-a"]]
    assert drawn.trained == [True] * 8 and drawn.generated == drawn.trained_total == 8 and drawn.rounds == 1


def test_sampling_settings_and_the_old_drop_solved_setting():
    assert load_config(TrainConfig, None, ["data.drop_solved=false"]).data.mode == "uniform"
    assert load_config(TrainConfig, None, []).data.mode == "history"
    config = load_config(TrainConfig, None, ["data.sampling=dynamic", "data.drop_solved=false"])
    assert config.data.mode == "dynamic" and not config.data.drops_solved
    with pytest.raises(InputError, match="expected one of"):
        load_config(TrainConfig, None, ["data.sampling=random"])
    for bad, message in (("data.dynamic_max_rounds=0", "dynamic_max_rounds"),
                         ("budget.max_rollouts=0", "max_rollouts"),
                         ("stages.switch_after_rollouts=0", "switch_after_rollouts")):  # fmt: skip
        with pytest.raises(InputError, match=message):
            load_config(TrainConfig, None, [bad]).validate()
