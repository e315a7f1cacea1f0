"""The report of real training runs (the taught tiny model, stored responses): its curves agree
with the rollouts and with the trainer's own metrics, runs are overlaid with their stage switch
marked, metrics.jsonl is read where it is (or where --metrics says), and the HTML page is one
self-contained file; PNGs; the command's output and one-line errors."""

from __future__ import annotations

import json
import re
import shutil
import struct
from collections import defaultdict
from html.parser import HTMLParser

import pytest

from srpo.report.build import ReportOptions, build_report
from srpo.report.html import write_html
from srpo.report.png import write_pngs
from srpo.train.trainer import train
from tests.helpers import run_cli
from tests.train.conftest import make_catalog, query, read_jsonl, small_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(taught_model, tmp_path_factory):
    """Run `a` (6 steps, stage 2 after step 4) and run `b` (3 steps, stage 2 after step 2, solved
    problems kept), both storing responses; and a difficulty run's row."""
    from srpo.catalog import runs

    tmp = tmp_path_factory.mktemp("report")
    catalog = make_catalog(tmp)
    train(catalog, str(taught_model), small_config(tmp / "out"), run_id="a")
    config_b = small_config(
        tmp / "out",
        "seed=5",
        "budget.max_steps=3",
        "stages.switch_after_steps=2",
        "data.drop_solved=false",
        "checkpoint.every_steps=0",
    )
    train(catalog, str(taught_model), config_b, run_id="b")
    with catalog.writer() as con:
        runs.start_run(con, "rate", kind=runs.DIFFICULTY_KIND, model="m", config={})
    report = build_report(catalog, ReportOptions(run_ids=("a", "b")))
    return {"catalog": catalog, "tmp": tmp, "report": report}


def metrics(trained, run_id):
    return read_jsonl(trained["tmp"] / "out" / run_id / "metrics.jsonl")


def figure(report, figure_id):
    [found] = [f for f in report.figures if f.figure_id == figure_id]
    return found


def test_curves_agree_with_the_rollouts_and_the_trainers_metrics(trained):
    report = trained["report"]
    reward = defaultdict(dict)
    for row in figure(report, "run-reward").data:
        reward[(row["run"], row["domain"])][row["x"]] = row["value"]
    accuracy = {(r["run"], r["domain"], r["x"]): r["value"] for r in figure(report, "run-accuracy").data}
    identical = {
        (r["run"], r["x"]): r["value"]
        for r in figure(report, "run-groups").data
        if r["kind"] == "identical rewards"
    }
    for run_id in ("a", "b"):
        lines = metrics(trained, run_id)
        assert sorted(reward[(run_id, "all")]) == [line["step"] for line in lines]
        for line in lines:
            step = line["step"]
            assert reward[(run_id, "all")][step] == pytest.approx(line["reward/mean"])
            assert reward[(run_id, "math")][step] == pytest.approx(line["reward/math/mean"])
            if "reward/code/mean" in line:
                assert reward[(run_id, "code")][step] == pytest.approx(line["reward/code/mean"])
            assert identical[(run_id, step)] == pytest.approx(line["frac_reward_zero_std"])
            # no format bonus here: reward 1 exactly when the grader said correct
            assert accuracy[(run_id, "all", step)] == pytest.approx(line["reward/mean"])
    [(tokens,)] = query(
        trained["catalog"], "SELECT avg(response_tokens) FROM rollouts WHERE run_id = 'a' AND step = 1"
    )
    assert next(
        r["value"]
        for r in figure(report, "run-length").data
        if (r["run"], r["domain"], r["x"]) == ("a", "all", 1)
    ) == pytest.approx(tokens)


def test_resampling_per_epoch_matches_the_trainers_counts(trained):
    drawn = defaultdict(int)
    for row in figure(trained["report"], "run-resampling").data:
        drawn[(row["run"], row["epoch"], row["category"])] = row["problems"]
    for run_id in ("a", "b"):
        firsts = {}
        for line in metrics(trained, run_id):
            firsts.setdefault(line["epoch"], line)
        for epoch, line in firsts.items():
            for category in ("new", "mixed", "all_wrong", "solved", "returned", "dropped"):
                assert drawn[(run_id, epoch, category)] == line[f"resample/{category}"], (
                    run_id,
                    epoch,
                    category,
                )
    assert any(drawn[("a", e, "dropped")] for e in range(5))  # the taught model solves the sevens
    assert not any(drawn[("b", e, "dropped")] for e in range(5)) and drawn[("b", 1, "solved")]


def test_runs_are_overlaid_with_their_stage_switch(trained):
    spec = figure(trained["report"], "run-reward").spec
    switches = {
        (row["run"], row["domain"], row["switch_step"])
        for row in spec["data"]["values"]
        if "switch_step" in row
    }
    panels = {row["domain"] for row in spec["data"]["values"]}
    assert panels == {"all", "math", "code"}
    assert switches == {(run, panel, step) for run, step in (("a", 4), ("b", 2)) for panel in panels}
    colours = spec["spec"]["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert colours == ["a", "b"]  # the same colour per run in every figure
    summary = {run.run_id: run for run in trained["report"].runs}
    assert (
        summary["a"].stage_switch == "after step 4 (steps)"
        and summary["b"].stage_switch == "after step 2 (steps)"
    )
    [(stored,)] = query(
        trained["catalog"], "SELECT count(*) FROM rollouts WHERE run_id = 'a' AND response IS NOT NULL"
    )
    assert summary["a"].responses_stored == stored > 0


def test_update_figures_draw_the_keys_metrics_jsonl_has(trained):
    report = trained["report"]
    update = {row["metric"] for row in figure(report, "train-update").data}
    assert {"loss", "clip_fraction", "kl", "entropy", "grad_norm"} <= update
    has_sampling = any(k.startswith("sampling/") for line in metrics(trained, "a") for k in line)
    assert any(f.figure_id == "train-mismatch" for f in report.figures) == has_sampling
    phases = {(row["run"], row["phase"]) for row in figure(report, "train-time").data}
    assert {("a", "generate"), ("a", "update"), ("b", "generate")} <= phases


def test_a_moved_output_folder_is_a_note_and_metrics_finds_it(trained, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(
        trained["tmp"] / "out" / "a", moved, ignore=shutil.ignore_patterns("checkpoints", "model")
    )
    lines = (moved / "metrics.jsonl").read_text().splitlines()
    extra = [
        json.dumps({**json.loads(line), "sampling/logp_diff/mean": 0.001 * i}) for i, line in enumerate(lines)
    ]
    (moved / "metrics.jsonl").write_text("\n".join([*extra, "{truncated"]) + "\n")
    catalog_copy = tmp_path / "c.duckdb"
    shutil.copy(trained["catalog"].path, catalog_copy)
    from srpo.catalog import Catalog

    copy = Catalog.open(catalog_copy)
    with copy.writer() as con:  # as if the run's folder had been elsewhere
        con.execute(
            "UPDATE runs SET config = json_merge_patch(config, '{\"output_dir\": \"/nowhere/a\"}') WHERE run_id = 'a'"
        )
    lost = build_report(copy, ReportOptions(run_ids=("a",)))
    assert any(
        "/nowhere/a/metrics.jsonl not found" in note and "--metrics a=PATH" in note for note in lost.notes
    )
    assert not any(f.section == "training" for f in lost.figures)
    assert {f.figure_id for f in lost.figures} >= {
        "run-reward",
        "run-resampling",
        "behaviour-share",
    }  # catalog
    found = build_report(copy, ReportOptions(run_ids=("a",), metrics={"a": moved}))
    mismatch = [
        row for row in figure(found, "train-mismatch").data if row["metric"] == "sampling/logp_diff/mean"
    ]
    assert [row["value"] for row in mismatch] == pytest.approx([0.001 * i for i in range(len(lines))])
    assert any(f"line {len(lines) + 1}: not a JSON object" in note for note in found.notes)


def test_behaviour_counts_every_stored_response_per_epoch(trained):
    shares = figure(trained["report"], "behaviour-share").data
    counted = {(r["run"], r["x"]): r["responses"] for r in shares if r["behaviour"] == "recheck"}
    expected = query(
        trained["catalog"],
        "SELECT run_id, epoch, count(*) FROM rollouts WHERE response IS NOT NULL "
        "AND run_id IN ('a', 'b') GROUP BY ALL",
    )
    assert counted == {(run, epoch): n for run, epoch, n in expected}
    assert all(r["value"] == 0 for r in shares)  # the taught model only ever says "The answer is \boxed{n}."


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def test_the_html_page_is_one_self_contained_file(trained, tmp_path):
    report = trained["report"]
    path = write_html(report, tmp_path / "r.html")
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    figures = [attrs for tag, attrs in page.tags if tag == "figure"]
    assert len(figures) == len(report.figures) >= 8
    assert len({f["id"] for f in figures}) == len(figures)
    for tag, attrs in page.tags:  # nothing to fetch: no src, href, srcset or stylesheet link outside the page
        assert tag != "link" and "src" not in attrs and "srcset" not in attrs, (tag, attrs)
        assert attrs.get("href", "#").startswith("#"), attrs  # links only within the page
    style = re.search(r"<style>(.*?)</style>", path.read_text(encoding="utf-8"), re.S).group(1)
    assert "url(" not in style and "@import" not in style
    [bundle, specs, embed] = page.scripts
    assert "vegaEmbed" in bundle and len(bundle) > 100_000  # Vega, Vega-Lite and vega-embed, inline
    parsed = json.loads(specs)
    assert list(parsed) == [f["id"] for f in figures]
    assert all(spec.get("data", {}).get("values") or spec.get("datasets") for spec in parsed.values())
    assert "fetch(" not in embed and "import(" not in embed


def test_png_images_one_per_figure(trained, tmp_path):
    report = trained["report"]
    written = write_pngs(report, tmp_path / "figs")
    assert [p.name for p in written] == [f"{f.figure_id}.png" for f in report.figures]
    for png in written:
        head = png.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", head[16:24])
        assert width > 200 and height > 100
    index = json.loads((tmp_path / "figs" / "figures.json").read_text())
    assert [item["file"] for item in index] == [p.name for p in written]


def test_the_command_writes_and_refuses_in_one_line(trained, tmp_path):
    catalog = str(trained["catalog"].path)
    out = tmp_path / "r.html"
    result = run_cli("report", "--run", "a,b", "-o", str(out), "--catalog", catalog, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out}: {len(trained['report'].figures)} figures (catalog ")
    pngs = run_cli(
        "report", "--run", "a", "-f", "png", "-o", str(tmp_path / "figs"), "--catalog", catalog, timeout=300
    )
    assert pngs.returncode == 0 and (tmp_path / "figs" / "run-reward.png").is_file(), pngs.stderr
    for args, message in (
        (["--run", "nope"], "--run nope: no run with that id; training runs here: "),
        (["--run", "rate"], "--run rate: a difficulty run, not a training run"),
        (["--run", "a", "--metrics", "b=/tmp"], "--metrics b=/tmp: b is not one of the --run ids"),
        (["--metrics", "broken"], "--metrics 'broken': expected RUN_ID=PATH"),
        (["-f", "pdf"], "--format must be one of html, png"),
        (["--set", "behaviour.window_steps=0"], "behaviour.window_steps must be at least 1"),
    ):
        failed = run_cli("report", *args, "-o", str(tmp_path / "x.html"), "--catalog", catalog)
        assert failed.returncode == 2, (args, failed.stderr)
        assert failed.stderr.count("\n") == 1 and message in failed.stderr, failed.stderr
