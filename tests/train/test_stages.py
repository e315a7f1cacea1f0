"""The stage switch: move to stage 2 after N steps, or when the moving-average reward plateaus."""

from __future__ import annotations

import pytest

from srpo.train.config import StageConfig
from srpo.train.stages import StageSwitch, moving_average, plateau_slope, slope


def test_moving_average_and_slope_on_hand_numbers():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]
    assert slope([1, 2, 3]) == pytest.approx(1.0)
    # x mean 1, y mean 1: covariance (-1)(-1) + 0 + (1)(2) = 3 over variance 2
    assert slope([0, 0, 3]) == pytest.approx(1.5)
    # averages of 3: 0.2, 0.8/3, 0.3 -> slope of those three = (0.3 - 0.2) / 2
    assert plateau_slope([0.1, 0.2, 0.3, 0.3, 0.3], 3) == pytest.approx(0.05)
    assert plateau_slope([0.1, 0.2, 0.3, 0.3], 3) is None  # needs 2 * 3 - 1 steps


def test_switch_after_a_number_of_steps():
    switch = StageSwitch(StageConfig(switch_after_steps=3))
    assert [switch.observe(stage=1, step=s, accuracy=0.5) for s in (1, 2, 3)] == [None, None, "steps"]
    assert switch.observe(stage=2, step=4, accuracy=0.5) is None  # stage 2 is final


def test_switch_when_the_accuracy_plateaus():
    switch = StageSwitch(StageConfig(plateau_window=3, plateau_slope=0.01))
    rising = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    assert [switch.observe(stage=1, step=i + 1, accuracy=r) for i, r in enumerate(rising)] == [None] * 6
    flat = [0.6, 0.6, 0.6, 0.6]  # moving averages 0.5, 0.5667, 0.6, 0.6 ... slope falls under 0.01
    decisions = [switch.observe(stage=1, step=7 + i, accuracy=r) for i, r in enumerate(flat)]
    assert decisions == [None, None, None, "plateau"]


def test_min_steps_and_state_round_trip():
    config = StageConfig(plateau_window=2, plateau_slope=0.01, min_steps=5)
    switch = StageSwitch(config)
    decisions = [switch.observe(stage=1, step=s, accuracy=0.5) for s in range(1, 6)]
    assert decisions == [None, None, None, None, "plateau"]
    copy = StageSwitch(config)
    copy.restore(switch.state())
    assert copy.stage1_accuracy == switch.stage1_accuracy


def test_a_checkpoint_of_an_earlier_srpo_restores_its_stage_one_values():
    switch = StageSwitch(StageConfig(plateau_window=2))
    switch.restore({"stage1_rewards": [0.25, 0.5]})  # what checkpoints stored before accuracy
    assert switch.stage1_accuracy == [0.25, 0.5]
