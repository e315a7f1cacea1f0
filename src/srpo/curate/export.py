"""Exports of catalog problems in the column shapes other trainers read.

- `trl`: TRL's GRPOTrainer reads `prompt` (a list of chat messages) and passes every other column
  to the reward functions as keyword arguments: `answer`, `tests`, `domain`, `problem_id`, ...
- `verl`: verl's RL parquet: `data_source` (`srpo/<source>`), `prompt` (chat messages),
  `ability`, `reward_model` {`style`: "rule", `ground_truth`}, `extra_info` {`domain`,
  `problem_id`, `split`, `index`, ...}. The `srpo/` prefix routes the rows to srpo's grader:
  `custom_reward_function.path=pkg://srpo.integrations.verl` grades them (reading the domain and
  problem id from `extra_info`), and verl's built-in dispatcher, which would grade a bare `aime`
  with another grader, refuses them instead of scoring them differently.
- `openrlhf`: OpenRLHF's prompt datasets: `input` (the prompt text; use `--input_key input
  --apply_chat_template`) and `label` (the gold answer, or the tests as JSON for code;
  `--label_key label`), plus `datasource`, `problem_id` and `srpo_label` (JSON: problem id,
  domain and gold; `--label_key srpo_label` for `srpo-reward-server`, which then knows the
  domain without guessing and can record each completion under its problem).

For code problems the ground truth / label is srpo's tests JSON (see `catalog.testspec`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from srpo.rollout.prompts import PromptStyle, user_prompt

EXPORTS = ("trl", "verl", "openrlhf")
DEFAULT_FORMAT = {"trl": "jsonl", "verl": "parquet", "openrlhf": "jsonl"}
NEEDED_COLUMNS = ("problem_id", "source", "split", "source_index", "domain", "question", "answer",
                  "tests", "metadata", "difficulty", "pass_rate")  # fmt: skip


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _prompt(row: Mapping[str, Any], style: PromptStyle) -> str:
    return user_prompt(
        question=row["question"],
        domain=row["domain"],
        tests=_decoded(row.get("tests")),
        metadata=_decoded(row.get("metadata")),
        style=style,
    )


def _ground_truth(row: Mapping[str, Any]) -> str | None:
    return row.get("tests") if row["domain"] == "code" else row.get("answer")


def _trl(row: Mapping[str, Any], index: int, style: PromptStyle) -> dict[str, Any]:
    return {
        "prompt": [{"role": "user", "content": _prompt(row, style)}],
        "answer": row.get("answer"),
        "tests": row.get("tests"),
        "domain": row["domain"],
        "problem_id": row["problem_id"],
        "source": row["source"],
        "difficulty": row.get("difficulty"),
    }


VERL_SOURCE_PREFIX = "srpo/"


def _verl(row: Mapping[str, Any], index: int, style: PromptStyle) -> dict[str, Any]:
    return {
        "data_source": VERL_SOURCE_PREFIX + row["source"],
        "prompt": [{"role": "user", "content": _prompt(row, style)}],
        "ability": row["domain"],
        "reward_model": {"style": "rule", "ground_truth": _ground_truth(row)},
        "extra_info": {
            "domain": row["domain"],
            "split": row["split"],
            "index": index,
            "problem_id": row["problem_id"],
            "source_index": row["source_index"],
            "question": row["question"],
        },
    }


def _openrlhf(row: Mapping[str, Any], index: int, style: PromptStyle) -> dict[str, Any]:
    return {
        "input": _prompt(row, style),
        "label": _ground_truth(row),
        "datasource": row["source"],
        "problem_id": row["problem_id"],
        "srpo_label": _srpo_label(row),
    }


def _srpo_label(row: Mapping[str, Any]) -> str:
    gold = {"tests": row.get("tests")} if row["domain"] == "code" else {"answer": row.get("answer")}
    return json.dumps({"problem_id": row["problem_id"], "domain": row["domain"], **gold})


_SHAPERS: dict[str, Callable[[Mapping[str, Any], int, PromptStyle], dict[str, Any]]] = {
    "trl": _trl,
    "verl": _verl,
    "openrlhf": _openrlhf,
}


def export_rows(
    rows: Iterable[Mapping[str, Any]], target: str, *, style: PromptStyle | None = None
) -> list[dict[str, Any]]:
    """Shape catalog rows (dicts with at least NEEDED_COLUMNS) for `target`."""
    shaper = _SHAPERS[target]
    style = style or PromptStyle()
    return [shaper(row, index, style) for index, row in enumerate(rows)]
