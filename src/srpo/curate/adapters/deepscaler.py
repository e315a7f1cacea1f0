"""DeepScaleR / verl-format RL sets, and rLLM's DeepScaleR JSON components.

verl rows: `prompt` (a list of chat messages), `reward_model.ground_truth` (or `ground_truth`),
`ability`, `data_source`, `extra_info`; the baked-in answer instruction is removed from the
question. rLLM rows: `problem`, `answer`, optional `solution`, `difficulty`, `type`.
Source difficulty fields are kept in metadata (`source_difficulty`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srpo.curate.adapters.base import (
    Adapter,
    Draft,
    answer_text,
    field_sets,
    number_or_none,
    share,
    strip_instruction,
    text,
    type_name,
)
from srpo.errors import RowError

_NUMERIC_EXTRAS = ("nll", "average_nll")


def _user_message(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if not isinstance(prompt, list) or not prompt:
        raise RowError("prompt", f"expected a list of chat messages, got {type_name(prompt)}")
    users = [m for m in prompt if isinstance(m, Mapping) and m.get("role") == "user"]
    if not users or not isinstance(users[-1].get("content"), str):
        raise RowError("prompt", "no user message with string content")
    return users[-1]["content"]


def _ground_truth(row: Mapping[str, Any]) -> Any:
    reward_model = row.get("reward_model")
    if isinstance(reward_model, Mapping) and "ground_truth" in reward_model:
        return reward_model["ground_truth"], "reward_model.ground_truth"
    return row.get("ground_truth", row.get("answer")), "ground_truth"


def _convert_verl(row: Mapping[str, Any]) -> Draft:
    metadata: dict[str, Any] = {}
    question = strip_instruction(_user_message(row["prompt"]), metadata)
    gold, gold_field = _ground_truth(row)
    for name in ("data_source", "ability"):
        if row.get(name) is not None:
            metadata[name] = row[name]
    extra = row.get("extra_info")
    if isinstance(extra, Mapping):
        metadata["extra_info"] = dict(extra)
    difficulty = row.get("difficulty")
    if difficulty is None and isinstance(extra, Mapping):
        difficulty = extra.get("difficulty")
    if difficulty is not None:
        metadata["source_difficulty"] = number_or_none(difficulty)
    for name in _NUMERIC_EXTRAS:
        if row.get(name) is not None:
            metadata[name] = row[name]
    if row.get("problem_id") is not None:
        metadata["source_problem_id"] = row["problem_id"]
    split = extra.get("split") if isinstance(extra, Mapping) else None
    return Draft(
        domain="math",
        question=question,
        answer=answer_text(gold, gold_field),
        metadata=metadata,
        split=split if isinstance(split, str) and split else None,
    )


def _convert_rllm(row: Mapping[str, Any]) -> Draft:
    metadata: dict[str, Any] = {}
    question = strip_instruction(text(row, "problem", "question"), metadata)
    if row.get("difficulty") is not None:
        metadata["source_difficulty"] = number_or_none(row["difficulty"])
    if row.get("type"):
        metadata["subject"] = row["type"]
    return Draft(
        domain="math",
        question=question,
        answer=answer_text(row.get("answer"), "answer"),
        solution=text(row, "solution", required=False),
        metadata=metadata,
    )


def convert(row: Mapping[str, Any]) -> Draft:
    if "prompt" in row and ("reward_model" in row or "ground_truth" in row):
        return _convert_verl(row)
    return _convert_rllm(row)


def detect(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    fields = field_sets(rows)
    if "prompt" in fields and ({"reward_model", "ground_truth"} & fields):
        return 0.95 * share(rows, lambda r: isinstance(r["prompt"], list | str))
    if {"problem", "answer", "difficulty"} <= fields and "unique_id" not in fields:
        return 0.6
    return 0.0


ADAPTER = Adapter(
    name="deepscaler",
    description="DeepScaleR: verl parquet (prompt messages + reward_model.ground_truth) or rLLM JSON",
    convert=convert,
    detect=detect,
    license="MIT",
)
