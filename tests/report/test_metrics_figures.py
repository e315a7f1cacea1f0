"""metrics.jsonl as the report reads it: written by several trainer versions (keys present or not),
with broken or repeated lines, NaN values; the timing breakdown; all without training anything."""

from __future__ import annotations

import json

import pytest

from srpo.report.metrics_file import MetricsFile, metrics_path, read_metrics
from srpo.report.run_data import RunData, RunInfo
from srpo.report.update_charts import OTHER, mismatch_figure, time_rows, update_figure, update_figures


def run_with(run_id: str, lines: list[dict], *, switch: int | None = None) -> RunData:
    info = RunInfo(
        run_id=run_id,
        kind="train",
        model="m",
        status="completed",
        stage=2,
        epoch=1,
        step=len(lines),
        stage_switch_step=switch,
        stage_switch_reason="steps" if switch else None,
        config={},
    )
    return RunData(info=info, steps=[], groups=[], epochs=[], metrics=MetricsFile(None, lines))


OLD = [
    {
        "step": 1,
        "loss": 0.5,
        "kl": 0.0,
        "entropy": 1.2,
        "time/generate_s": 2.0,
        "time/train_s": 1.0,
        "time/step_s": 3.5,
    },
    {
        "step": 2,
        "loss": 0.4,
        "kl": float("nan"),
        "entropy": 1.1,
        "time/generate_s": 4.0,
        "time/train_s": 1.0,
        "time/step_s": 5.5,
    },
]
NEW = [
    {
        "step": s,
        "loss": 0.3,
        "clip_high_fraction": 0.01,
        "sampling/logp_diff/mean": 0.002 * s,
        "sampling/is_capped_frac": 0.0,
        "sampling/extra_key": float("inf"),
        "time/generate_s": 1.0,
        "time/reward_wait_s": 0.25,
        "time/write_s": 0.05,
        "time/train_s": 0.5,
        "time/sync_s": 0.2,
        "time/step_s": 2.0,
    }
    for s in (1, 2, 3)
]


def test_keys_are_drawn_where_present_and_nan_or_infinity_never():
    runs = [run_with("old", OLD), run_with("new", NEW, switch=2)]
    update = update_figure(runs)
    drawn = {(r["run"], r["metric"], r["x"]) for r in update.data}
    assert ("old", "kl", 1) in drawn and (
        "old",
        "kl",
        2,
    ) not in drawn  # NaN left out, not drawn as a gap value
    assert ("new", "clip_high_fraction", 3) in drawn and not any(
        r[0] == "old" and r[1].startswith("clip") for r in drawn
    )
    mismatch = mismatch_figure(runs)
    assert {r["metric"] for r in mismatch.data} == {"sampling/logp_diff/mean", "sampling/is_capped_frac"}
    assert {r["run"] for r in mismatch.data} == {"new"}
    assert mismatch_figure([run_with("old", OLD)]) is None  # an old run: no mismatch figure at all
    json.dumps([update.spec, mismatch.spec], allow_nan=False)  # valid JSON for the page
    rules = [v for v in update.spec["data"]["values"] if "switch_step" in v]
    assert {(v["run"], v["switch_step"]) for v in rules} == {("new", 2)}


def test_where_the_time_went_adds_up_to_the_step():
    rows = {
        (r["run"], r["phase"]): r["seconds"] for r in time_rows([run_with("old", OLD), run_with("new", NEW)])
    }
    assert rows[("old", "generate")] == 3.0 and rows[("old", "update")] == 1.0
    assert rows[("old", OTHER)] == pytest.approx(0.5)  # 3.5 - 3 and 5.5 - 5
    assert ("old", "weight sync") not in rows  # an older trainer did not time it
    assert rows[("new", OTHER)] == pytest.approx(0.0)
    assert sum(v for (run, _), v in rows.items() if run == "new") == pytest.approx(2.0)


def test_no_metrics_no_training_figures():
    assert update_figures([run_with("empty", [])]) == []


def test_reading_the_file_keeps_good_lines_and_names_bad_ones(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(
        '{"step": 1, "loss": 1.0}\n\n[1, 2]\n{"loss": 3}\n{"step": 1, "loss": 0.9}\n{"step": 2, "lo'
    )
    read = read_metrics("r", path)
    assert read.lines == [{"step": 1, "loss": 0.9}]  # a step written twice counts once, the latest
    assert read.notes == [
        f"{path} line 3: not a JSON object with a step; skipped",
        f"{path} line 4: no step field; skipped",
        f"{path} line 6: not a JSON object with a step; skipped",
    ]
    missing = read_metrics("r", tmp_path / "gone" / "metrics.jsonl")
    assert missing.lines == [] and "--metrics r=PATH" in missing.notes[0]


def test_where_the_file_is_looked_for(tmp_path):
    assert metrics_path("r1", {"output_dir": "/runs/{run_id}"}, None).as_posix() == "/runs/r1/metrics.jsonl"
    assert metrics_path("r1", {}, None) is None
    assert metrics_path("r1", {"output_dir": "/x"}, tmp_path) == tmp_path / "metrics.jsonl"  # a folder
    assert metrics_path("r1", {}, tmp_path / "m.jsonl") == tmp_path / "m.jsonl"  # a file
