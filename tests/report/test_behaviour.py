"""Reasoning behaviour counted over responses written for the purpose: each pattern alone, none,
several at once, near misses, code-check only for math, per epoch and per step window, custom
pattern lists, and `srpo-curate query --behaviour`."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from srpo.errors import InputError
from srpo.report.behaviour import behaviour_rows, combined
from srpo.report.config import BehaviourConfig
from tests.helpers import run_cli

from .conftest import add_run, toy_catalog

NONE = "The answer is \\boxed{7}."
RECHECK = "3 + 4 = 7. Let me recheck: 3 + 4 = 7. \\boxed{7}"
HESITATION = "Wait, 3 + 4 is 7, not 8. \\boxed{7}"
EXPLORATION = "Let’s try counting up from 3: 4, 5, 6, 7. \\boxed{7}"  # a typographic apostrophe
CODE = "```python\nprint(2 + 6)\n```\nSo \\boxed{8}."
SEVERAL = "Hmm. Alternatively, double-check with code:\n```py\nassert 2 + 6 == 8\n```\n\\boxed{8}"
NEAR_MISSES = "The waiter awaits a verifiable, somewhat iffy tray of checks. \\boxed{8}"
CODE_DOMAIN = "```python\nprint('hello')\n```"
BOTH = "Wait, let me verify: 3 + 4 = 7. \\boxed{7}"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    catalog, ids = toy_catalog(tmp_path_factory.mktemp("behaviour"))
    m1, m2, c1 = ids["m1"], ids["m2"], ids["c1"]
    add_run(
        catalog,
        "hand",
        [
            (0, 1, m1, 0, 10, "correct", NONE),
            (0, 1, m1, 1, 20, "correct", RECHECK),
            (0, 1, m1, 2, 30, "correct", HESITATION),
            (0, 1, m1, 3, 40, "correct", EXPLORATION),
            (0, 2, m2, 0, 50, "correct", CODE),
            (0, 2, m2, 1, 60, "correct", SEVERAL),
            (0, 2, m2, 2, 70, "correct", NEAR_MISSES),
            (0, 2, c1, 0, 80, "wrong", CODE_DOMAIN),
            (0, 2, c1, 1, 90, "wrong", None),  # not stored: not counted
            (1, 3, m1, 0, 15, "correct", BOTH),
            (1, 3, m1, 1, 25, "correct", NONE),
        ],
    )
    add_run(catalog, "silent", [(0, 1, m1, 0, 10, "correct", None)])
    return catalog


def by_key(rows):
    return {(row.window, row.behaviour): row for row in rows}


def test_each_pattern_none_and_several_per_epoch(written):
    with written.reader() as con:
        rows = by_key(behaviour_rows(con, "hand"))
    assert sorted({w for w, _ in rows}) == [0, 1]
    # epoch 0: 8 stored responses (7 math, 1 code); NEAR_MISSES and NONE show nothing.
    recheck, hesitation, exploration, code = (
        rows[(0, b)] for b in ("recheck", "hesitation", "exploration", "code_check")
    )
    assert (recheck.responses, recheck.showing, recheck.share) == (8, 2, 0.25)  # RECHECK, SEVERAL
    assert recheck.mean_tokens_with == 40 and recheck.mean_tokens_without == pytest.approx(280 / 6)
    assert (hesitation.showing, hesitation.mean_tokens_with) == (2, 45)  # HESITATION, SEVERAL
    assert hesitation.mean_tokens_without == pytest.approx(270 / 6)
    assert (exploration.showing, exploration.mean_tokens_with) == (2, 50)  # EXPLORATION (’), SEVERAL
    assert exploration.mean_tokens_without == pytest.approx(260 / 6)
    # code_check counts math responses only: CODE and SEVERAL, not the code problem's program.
    assert (code.scope, code.responses, code.showing) == ("math", 7, 2)
    assert (
        code.share == pytest.approx(2 / 7) and code.mean_tokens_with == 55 and code.mean_tokens_without == 34
    )
    assert (recheck.first_step, recheck.last_step) == (1, 2)
    # epoch 1: BOTH rechecks and hesitates; nothing explores (no mean length "with").
    assert rows[(1, "recheck")].showing == rows[(1, "hesitation")].showing == 1
    assert (
        rows[(1, "hesitation")].mean_tokens_with == 15 and rows[(1, "hesitation")].mean_tokens_without == 25
    )
    assert rows[(1, "exploration")].showing == 0 and rows[(1, "exploration")].mean_tokens_with is None
    assert rows[(1, "exploration")].mean_tokens_without == 20


def test_step_windows(written):
    with written.reader() as con:
        rows = by_key(behaviour_rows(con, "hand", BehaviourConfig(window_steps=1)))
    assert sorted({w for w, _ in rows}) == [1, 2, 3]
    assert [rows[(1, b)].showing for b in ("recheck", "hesitation", "exploration", "code_check")] == [
        1,
        1,
        1,
        0,
    ]
    assert rows[(2, "code_check")].responses == 3 and rows[(2, "recheck")].responses == 4
    with written.reader() as con:
        two = by_key(behaviour_rows(con, "hand", BehaviourConfig(window_steps=2)))
    assert sorted({w for w, _ in two}) == [1, 3]
    assert (two[(1, "recheck")].first_step, two[(1, "recheck")].last_step, two[(1, "recheck")].showing) == (
        1,
        2,
        2,
    )


def test_pattern_lists_are_settings(written):
    config = replace(BehaviourConfig(), hesitation=(r"\btray\b",), exploration=())
    with written.reader() as con:
        rows = by_key(behaviour_rows(con, "hand", config))
    assert rows[(0, "hesitation")].showing == 1  # only NEAR_MISSES says "tray"
    assert not any(b == "exploration" for _, b in rows)  # an empty list leaves the behaviour out
    with (
        written.reader() as con,
        pytest.raises(InputError, match=r"behaviour.recheck: '\(unclosed' is not an RE2"),
    ):
        behaviour_rows(con, "hand", replace(BehaviourConfig(), recheck=("(unclosed",)))
    with written.reader() as con, pytest.raises(InputError, match="window_steps must be at least 1"):
        behaviour_rows(con, "hand", BehaviourConfig(window_steps=0))


def test_a_run_without_stored_responses_and_an_unknown_run(written):
    with written.reader() as con:
        assert behaviour_rows(con, "silent") == []
        with pytest.raises(InputError, match="--behaviour nope: no run"):
            behaviour_rows(con, "nope")


# Every example the settings' docstrings give matches its behaviour's default list.
DOCUMENTED = {
    "recheck": [
        "Let me recheck: 3 + 4 = 7.",
        "Double-check the sign.",
        "To verify, substitute x = 2.",
        "Re-examining step 2...",
        "Let's confirm the total.",
    ],
    "hesitation": [
        "Wait, that is 12, not 13.",
        "Hmm, the units differ.",
        "Hold on.",
        "I'm not sure this holds.",
        "On second thought...",
        "That can't be right.",
    ],
    "exploration": [
        "Alternatively, factor first.",
        "Another approach: ...",
        "Let me try small cases.",
        "What if n is odd?",
        "On the other hand...",
    ],
    "code_check": ["```python\nprint(2 ** 10)\n```", "```\nimport math\nprint(math.pi)\n```"],
}


@pytest.mark.parametrize("behaviour", list(DOCUMENTED))
def test_the_documented_examples_match_the_defaults(behaviour):
    import duckdb

    pattern = combined(BehaviourConfig().patterns()[behaviour])
    con = duckdb.connect()
    for text in DOCUMENTED[behaviour]:
        assert con.execute("SELECT regexp_matches(?, ?, 'i')", [text, pattern]).fetchall() == [(True,)], text
    others = [t for name, texts in DOCUMENTED.items() if name != behaviour for t in texts]
    # ... and no example of another behaviour does (the lists do not overlap on these).
    assert not any(
        con.execute("SELECT regexp_matches(?, ?, 'i')", [t, pattern]).fetchall()[0][0] for t in others
    )
    assert con.execute("SELECT regexp_matches(?, ?, 'i')", [NEAR_MISSES, pattern]).fetchall() == [(False,)]


def test_query_behaviour_prints_per_window_rows(written):
    result = run_cli("query", "--behaviour", "hand", "--catalog", str(written.path), "-f", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2 * 4 and {r["run_id"] for r in rows} == {"hand"}
    first = next(r for r in rows if r["window"] == 0 and r["behaviour"] == "recheck")
    assert (first["responses"], first["showing"], first["share"], first["mean_tokens_with"]) == (
        8,
        2,
        0.25,
        40.0,
    )
    assert "run hand: 10 stored responses in 2 epochs" in result.stderr
    table = run_cli(
        "query", "--behaviour", "hand", "--catalog", str(written.path), "--set", "behaviour.window_steps=2"
    )
    assert table.returncode == 0 and "code_check" in table.stdout and "2-step windows" in table.stderr
    custom = run_cli(
        "query",
        "--behaviour",
        "hand",
        "--catalog",
        str(written.path),
        "-f",
        "jsonl",
        "--set",
        "behaviour.recheck=['tray']",
    )
    assert next(json.loads(line) for line in custom.stdout.splitlines())["showing"] == 1
    missing = run_cli("query", "--behaviour", "nope", "--catalog", str(written.path))
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "--behaviour nope: no run with that id" in missing.stderr
