"""The openai engine against a small OpenAI-compatible server started by the test (loopback only)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from srpo.errors import EngineError, InputError
from srpo.rollout import SamplingConfig, create_engine, engine_config
from srpo.rollout.prompts import PromptTemplate, build_prompt


class FakeServer:
    """Speaks /v1/completions and /v1/chat/completions. Choice i answers "\\boxed{i}" in words
    split on spaces (one word, one token); choice 1 is cut at max_tokens."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.logprobs = True  # whether the server returns per-token logprobs
        self.fail_first: list[int] = []  # HTTP statuses to answer before succeeding
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body))
                if server.fail_first:
                    self._reply(server.fail_first.pop(0), {"error": {"message": "busy, try later"}})
                elif self.path not in ("/v1/completions", "/v1/chat/completions"):
                    self._reply(404, {"error": {"message": f"no route {self.path}"}})
                else:
                    self._reply(200, server.answer(self.path, body))

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, path: str, body: dict) -> dict:
        chat = path.endswith("chat/completions")
        choices, total = [], 0
        for index in range(body["n"]):
            words = f"seed {body.get('seed')} answer \\boxed{{{index}}}".split(" ")
            total += len(words)
            choice = {"index": index, "finish_reason": "length" if index == 1 else "stop"}
            if chat:
                choice["message"] = {"role": "assistant", "content": " ".join(words)}
                if self.logprobs and body.get("logprobs"):
                    choice["logprobs"] = {
                        "content": [{"token": w, "logprob": -0.1 * (i + 1)} for i, w in enumerate(words)]
                    }
            else:
                choice["text"] = " ".join(words)
                if self.logprobs and body.get("logprobs") is not None:
                    choice["logprobs"] = {
                        "tokens": words,
                        "token_logprobs": [-0.1 * (i + 1) for i in range(len(words))],
                    }
            choices.append(choice)
        return {"id": "x", "choices": list(reversed(choices)), "usage": {"completion_tokens": total}}

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with FakeServer() as running:
        yield running


def _engine(server: FakeServer, **options):
    return create_engine(engine_config("openai", model="tiny", base_url=server.url, **options))


CHAT = build_prompt(question="What is 3 + 4?", domain="math")
PLAIN = build_prompt(question="What is 3 + 4?", domain="math", template=PromptTemplate(kind="plain"))


def test_plain_prompts_go_to_completions_with_every_sampling_setting(server):
    sampling = SamplingConfig(
        n=3, temperature=0.6, top_p=0.95, max_new_tokens=64, seed=5, stop=("</answer>",)
    )
    with _engine(server) as engine:
        [completion] = engine.generate([PLAIN], sampling)
    [(path, body)] = server.requests
    assert path == "/v1/completions"
    assert body == {
        "model": "tiny", "prompt": PLAIN.text, "n": 3, "temperature": 0.6, "top_p": 0.95, "max_tokens": 64,
        "seed": 5, "stop": ["</answer>"], "logprobs": 0,
    }  # fmt: skip
    assert [s.text for s in completion.samples] == [
        f"seed 5 answer \\boxed{{{i}}}" for i in range(3)
    ]  # by index
    assert [s.token_count for s in completion.samples] == [4, 4, 4]
    assert [s.finish_reason for s in completion.samples] == ["stop", "length", "stop"]
    assert completion.prompt_text == PLAIN.text and completion.samples[0].token_ids is None


def test_chat_prompts_go_to_chat_completions(server):
    with _engine(server) as engine:
        completions = engine.generate([CHAT, CHAT], SamplingConfig(n=2, max_new_tokens=8))
    assert [path for path, _ in server.requests] == ["/v1/chat/completions"] * 2
    body = server.requests[0][1]
    assert (
        body["messages"] == [{"role": "user", "content": CHAT.messages[0].content}]
        and body["logprobs"] is True
    )
    assert [[s.token_count for s in c.samples] for c in completions] == [[4, 4], [4, 4]]
    assert completions[0].prompt_text.startswith("user: What is 3 + 4?")


def test_usage_counting_sends_one_request_per_sample_with_distinct_seeds(server):
    server.logprobs = False
    with _engine(server, token_counts="usage") as engine:
        [completion] = engine.generate([PLAIN], SamplingConfig(n=3, max_new_tokens=8, seed=10))
    assert sorted(body["seed"] for _, body in server.requests) == [10, 11, 12]
    assert all(body["n"] == 1 and "logprobs" not in body for _, body in server.requests)
    assert [s.text for s in completion.samples] == [
        f"seed {seed} answer \\boxed{{0}}" for seed in (10, 11, 12)
    ]
    assert [s.token_count for s in completion.samples] == [4, 4, 4]


def test_a_server_without_logprobs_is_named_with_the_way_out(server):
    server.logprobs = False
    with _engine(server) as engine, pytest.raises(EngineError, match=r"engine\.openai\.token_counts=usage"):
        engine.generate([PLAIN], SamplingConfig(n=2))


def test_busy_server_is_retried_and_client_errors_are_not(server):
    server.fail_first = [503, 503]
    with _engine(server) as engine:
        assert len(engine.generate([PLAIN], SamplingConfig(n=1))[0].samples) == 1
    assert len(server.requests) == 3
    server.fail_first = [400]
    with _engine(server) as engine, pytest.raises(EngineError, match=r"HTTP 400: .*busy, try later"):
        engine.generate([PLAIN], SamplingConfig(n=1))


def test_unreachable_server_is_a_one_line_error():
    with FakeServer() as stopped:
        url = stopped.url
    engine = create_engine(engine_config("openai", model="m", base_url=url, max_retries=0))
    with engine, pytest.raises(EngineError, match=r"cannot reach http://127\.0\.0\.1"):
        engine.generate([PLAIN], SamplingConfig(n=1))


def test_options_of_another_backend_are_refused():
    with pytest.raises(InputError, match="device: not a setting of the openai backend"):
        engine_config("openai", model="m", device="cpu")
    with pytest.raises(InputError, match="base_url: not a setting of the transformers backend"):
        engine_config("transformers", model="m", base_url="http://x/v1")
    with pytest.raises(InputError, match=r"engine\.backend must be one of transformers, vllm, openai"):
        engine_config("sglang", model="m")
    with pytest.raises(InputError, match=r"engine\.openai\.base_url must start with http"):
        engine_config("openai", model="m", base_url="localhost:8000")


@pytest.mark.parametrize("prompt", [CHAT, PLAIN], ids=["chat", "plain"])
def test_the_servers_token_log_probs_are_passed_on(server, prompt):
    with _engine(server) as engine:
        [completion] = engine.generate([prompt], SamplingConfig(n=2, seed=4))
    for sample in completion.samples:
        assert sample.logprobs == pytest.approx([-0.1 * (i + 1) for i in range(sample.token_count)])
    server.logprobs = False
    with _engine(server, token_counts="usage") as engine:
        [completion] = engine.generate([prompt], SamplingConfig(n=2, seed=4))
    assert all(sample.logprobs is None for sample in completion.samples)
