"""The `openai` rollout engine: any OpenAI-compatible server a user already runs (vLLM, SGLang).

Plain prompts go to `/completions`, chat prompts to `/chat/completions` (the server applies the
model's chat template). Only the standard library is used (urllib and a thread pool), so this
backend needs no extra packages.

Token counts must be exact per sample, and the `usage` field of a response only totals all `n`
choices. So by default each request asks for log-probabilities (vLLM and SGLang return one entry
per generated token) and counts those; for a server that does not return them,
`token_counts="usage"` sends one request per sample instead and reads `usage`.

The per-token log-probs a server returns are passed on as `Sample.logprobs` (chat:
`logprobs.content[i].logprob`; completions: `logprobs.token_logprobs`). Which distribution they
are of is the server's choice: vLLM returns the raw model's unless started with
`--logprobs-mode processed_logprobs`.

Covers: request shapes, concurrency, retries, response parsing. Does not cover: starting a
server, or token ids (the API returns text only, so `Sample.token_ids` is None here).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from srpo.errors import EngineError, InputError
from srpo.rollout.engine import EngineBase
from srpo.rollout.sampling import Completion, Sample, SamplingConfig

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt

API_KEY_ENV = "OPENAI_API_KEY"
_RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True, kw_only=True)
class OpenAIEngineConfig:
    """Which server and model, and how requests are sent."""

    model: str
    """The model name the server knows (`--served-model-name` in vLLM)."""
    base_url: str = "http://127.0.0.1:8000/v1"
    """The API root, ending in /v1."""
    api_key: str | None = None
    """Bearer token; None reads $OPENAI_API_KEY (local servers usually need none)."""
    max_concurrent_requests: int = 8
    """Requests in flight at once (the server batches them)."""
    timeout_s: float = 600.0
    """Seconds to wait for one response."""
    max_retries: int = 2
    """Retries of a request that failed to connect or got 429/5xx, with a growing pause."""
    token_counts: Literal["logprobs", "usage"] = "logprobs"
    """`logprobs`: one request per prompt with `n` choices, counted from per-token logprobs;
    `usage`: one request per sample, counted from `usage.completion_tokens`."""

    def validate(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise InputError(
                f"engine.openai.base_url must start with http:// or https://, got {self.base_url!r}"
            )
        if self.max_concurrent_requests < 1:
            raise InputError("engine.openai.max_concurrent_requests must be at least 1")
        if self.token_counts not in ("logprobs", "usage"):
            raise InputError(
                f"engine.openai.token_counts must be logprobs or usage, got {self.token_counts!r}"
            )


@dataclass(frozen=True, slots=True)
class _Request:
    prompt_index: int
    path: str
    body: dict[str, Any]


class OpenAIEngine(EngineBase):
    """Rollouts from an OpenAI-compatible HTTP server."""

    name = "openai"

    def __init__(self, config: OpenAIEngineConfig) -> None:
        config.validate()
        self.config = config
        self._api_key = config.api_key or os.environ.get(API_KEY_ENV)
        self._pool = ThreadPoolExecutor(max_workers=config.max_concurrent_requests)

    def generate(self, prompts: Sequence[Prompt], sampling: SamplingConfig) -> list[Completion]:
        sampling.validate()
        requests = [
            request
            for index, prompt in enumerate(prompts)
            for request in self._requests(index, prompt, sampling)
        ]
        responses = list(self._pool.map(self._post, requests))
        samples: list[list[Sample]] = [[] for _ in prompts]
        for request, response in zip(requests, responses, strict=True):
            samples[request.prompt_index].extend(self._samples(request, response))
        return [
            Completion(prompt_text=_prompt_text(prompt), samples=tuple(found))
            for prompt, found in zip(prompts, samples, strict=True)
        ]

    def _requests(self, index: int, prompt: Prompt, sampling: SamplingConfig) -> list[_Request]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if prompt.is_chat:
            path = "/chat/completions"
            body["messages"] = [message.as_dict() for message in prompt.messages]
        else:
            path = "/completions"
            body["prompt"] = prompt.text
        if self.config.token_counts == "logprobs":
            body["logprobs"] = True if prompt.is_chat else 0
            seed = {"seed": sampling.seed} if sampling.seed is not None else {}
            return [_Request(index, path, {**body, **seed, "n": sampling.n})]
        # One request per sample; distinct seeds, or the n samples would all be the same.
        return [
            _Request(
                index,
                path,
                {**body, "n": 1, **({"seed": sampling.seed + i} if sampling.seed is not None else {})},
            )
            for i in range(sampling.n)
        ]

    def _samples(self, request: _Request, response: dict[str, Any]) -> list[Sample]:
        choices = sorted(response.get("choices") or [], key=lambda choice: choice.get("index", 0))
        wanted = request.body["n"]
        if len(choices) != wanted:
            where = self.config.base_url + request.path
            raise EngineError(
                f"{where} (engine.openai.base_url) returned {len(choices)} choices for n={wanted}"
            )
        samples = []
        for choice in choices:
            text = choice["message"]["content"] if "message" in choice else choice.get("text")
            samples.append(
                Sample(
                    text=text or "",
                    token_count=self._token_count(choice, response),
                    finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
                    logprobs=_token_logprobs(choice),
                )
            )
        return samples

    def _token_count(self, choice: dict[str, Any], response: dict[str, Any]) -> int:
        if self.config.token_counts == "usage":
            usage = response.get("usage") or {}
            if "completion_tokens" not in usage:
                raise EngineError(
                    f"{self.config.base_url} (engine.openai.base_url): "
                    "the response has no usage.completion_tokens"
                )
            return int(usage["completion_tokens"])
        logprobs = choice.get("logprobs") or {}
        tokens = logprobs.get("content") if "content" in logprobs else logprobs.get("tokens")
        if tokens is None:
            raise EngineError(
                f"{self.config.base_url} returned no per-token logprobs, so token counts are unknown; "
                "set engine.openai.token_counts=usage (one request per sample) with this server"
            )
        return len(tokens)

    def _post(self, request: _Request) -> dict[str, Any]:
        url = self.config.base_url.rstrip("/") + request.path
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = json.dumps(request.body).encode()
        for attempt in range(self.config.max_retries + 1):
            last = attempt == self.config.max_retries
            try:
                http_request = urllib.request.Request(url, data=data, headers=headers, method="POST")
                with urllib.request.urlopen(http_request, timeout=self.config.timeout_s) as reply:
                    return json.loads(reply.read())
            except urllib.error.HTTPError as error:
                if error.code not in _RETRY_STATUSES or last:
                    body = error.read().decode(errors="replace")[:300]
                    raise EngineError(
                        f"{url} (engine.openai.base_url): HTTP {error.code}: {' '.join(body.split())}"
                    ) from error
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if last:
                    reason = getattr(error, "reason", error)
                    raise EngineError(f"cannot reach {url} (engine.openai.base_url): {reason}") from error
            time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _token_logprobs(choice: dict[str, Any]) -> tuple[float, ...] | None:
    """The sampled tokens' log-probs of a choice, when the server gave one for every token."""
    logprobs = choice.get("logprobs") or {}
    if "content" in logprobs:
        values = [entry.get("logprob") for entry in logprobs.get("content") or []]
    else:
        values = list(logprobs.get("token_logprobs") or [])
    if not values or any(not isinstance(value, int | float) for value in values):
        return None
    return tuple(float(value) for value in values)


def _prompt_text(prompt: Prompt) -> str:
    """Plain prompts as sent; chat prompts as 'role: content' lines (the server renders them)."""
    if not prompt.is_chat:
        return prompt.text or ""
    return "\n".join(f"{message.role}: {message.content}" for message in prompt.messages)
