"""The JSON of OpenRLHF's `--remote_rm_url`, read and written.

OpenRLHF POSTs `{"query": [...], "prompts": [...], "labels": [...]}` to the URL it is given
(one item per request in current versions, a whole batch in older ones): `query` is the prompt
and the response decoded together (special tokens kept), `prompts` the prompt text, `labels`
the dataset's `--label_key` values. It reads `rewards` (for the advantages), `scores` (for
dynamic filtering, in [0, 1]) and `extra_logs` (numbers logged per sample) from the answer:
`{"rewards": [...], "scores": [...], "extra_logs": {"accuracy": [...]}}`.

Labels are read by `srpo.integrations.scoring.target_from_label`: the `srpo_label` column of
`srpo-curate query --export openrlhf` (problem id, domain and gold), srpo's tests JSON, or a
plain gold answer.

Covers: parsing, the response text, the answer's shape. Does not cover: grading or HTTP
(`server`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from srpo.errors import InputError


class RequestError(InputError):
    """A request that does not follow the protocol; answered with HTTP 400 and this message."""


@dataclass(frozen=True, slots=True)
class RewardRequest:
    """One response to grade: the full query, its prompt and its label."""

    query: str
    prompt: str | None
    label: Any


def _strings(payload: dict[str, Any], key: str, size: int | None) -> list[Any] | None:
    values = payload.get(key)
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        raise RequestError(f"field {key!r}: expected a list, got {type(values).__name__}")
    if size is not None and len(values) != size:
        raise RequestError(f"field {key!r}: {len(values)} values for {size} queries")
    return values


def parse_request(payload: Any) -> list[RewardRequest]:
    """The items of a request body (already decoded from JSON)."""
    if not isinstance(payload, dict):
        raise RequestError("the body must be a JSON object with query, prompts and labels")
    queries = _strings(payload, "query" if "query" in payload else "queries", None)
    if queries is None:
        raise RequestError("field 'query': missing (a list of prompt + response texts)")
    for index, query in enumerate(queries):
        if not isinstance(query, str):
            raise RequestError(f"field 'query'[{index}]: expected a string")
    prompts = _strings(payload, "prompts", len(queries)) or [None] * len(queries)
    labels = _strings(payload, "labels", len(queries))
    if labels is None:
        raise RequestError("field 'labels': missing (the gold answers, tests or srpo_label values)")
    return [
        RewardRequest(q, p if isinstance(p, str) else None, lab)
        for q, p, lab in zip(queries, prompts, labels, strict=True)
    ]


# End-of-turn and padding tokens OpenRLHF leaves in the query (it decodes with special tokens):
# ChatML/Qwen `<|im_end|>`, `<|endoftext|>`, Llama `<|eot_id|>`, DeepSeek `<｜end▁of▁sentence｜>`,
# `</s>`, Gemma `<end_of_turn>`. Left in, a closing code fence followed by one on the same line
# is no fence, and the program would not be found.
_TRAILING_SPECIAL = re.compile(
    r"(?:\s*(?:<\|[^<>|\n]{1,64}\|>|<｜[^<>｜\n]{1,64}｜>|</s>|<eos>|<pad>|<end_of_turn>))+\s*$"
)


def response_text(query: str, prompt: str | None) -> str:
    """The response part of a query: what follows the prompt (found at the start, or after a
    BOS token the tokenizer added; the whole query when the prompt is not in it), without the
    special tokens that end it."""
    response = query
    if prompt:
        at = 0 if query.startswith(prompt) else query.find(prompt)
        if at >= 0:
            response = query[at + len(prompt) :]
    return _TRAILING_SPECIAL.sub("", response)


def reward_answer(rewards: Sequence[float], correct: Sequence[bool]) -> dict[str, Any]:
    """The answer OpenRLHF reads (see the module docstring)."""
    values = [float(r) for r in rewards]
    return {
        "rewards": values,
        "scores": values,
        "extra_logs": {"accuracy": [1.0 if ok else 0.0 for ok in correct]},
    }
