"""`srpo-reward-server`: srpo's graders behind OpenRLHF's `--remote_rm_url`.

    srpo-reward-server --port 5000 --workers 8 --record --samples-per-prompt 8
    # OpenRLHF: --remote_rm_url http://127.0.0.1:5000/get_reward --label_key srpo_label

Any POST path answers the protocol (`protocol`); `GET /health` says the server is up, its
sandbox isolation, and what it has served. Requests are graded through a `GradingQueue` (math
batched, code side by side in the sandbox pool). With `--record` every completion whose label
names a problem (`srpo_label`) becomes a `rollouts` row of a run of kind `openrlhf`; OpenRLHF
does not say which epoch or step a request belongs to, so a problem's first
`--samples-per-prompt` completions are epoch 0, the next epoch 1, and so on (OpenRLHF's
`--n_samples_per_prompt`), and the step is left empty. The response text is what follows the
prompt in the query; its token count is not known here and is left empty too.

Why the standard library's `ThreadingHTTPServer` and not an ASGI stack: srpo depends on no web
framework, the protocol is one JSON POST, and grading is blocking work that runs in threads and
processes anyway; a thread per connection, with HTTP/1.1 keep-alive, serves OpenRLHF's request
pattern (one request per response, many connections) on loopback without another dependency.
A connection idle for `idle_timeout_s` is closed, a body over `max_body_mb` refused (413).

Covers: the service, HTTP, the command. Does not cover: scheduling (`grading_queue`), the JSON
(`protocol`).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from srpo.errors import SrpoError
from srpo.integrations.config import RunConfig
from srpo.integrations.openrlhf.grading_queue import GradingQueue
from srpo.integrations.openrlhf.protocol import (
    RequestError,
    RewardRequest,
    parse_request,
    response_text,
    reward_answer,
)
from srpo.integrations.recorder import Completion, RunRecorder
from srpo.integrations.scoring import (
    GoldLookup,
    SharedGrader,
    Target,
    grade_item,
    missing_gold,
    target_from_label,
)
from srpo.verify.config import GraderConfig
from srpo.verify.grading import Grade


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """`srpo-reward-server`'s settings (`--config FILE`, `--set key=value`, and the flags)."""

    host: str = "127.0.0.1"
    """Address to listen on (`--host`); 0.0.0.0 for other machines (the server has no
    authentication: keep it on a trusted network)."""
    port: int = 5000
    """Port (`--port`); 0 picks a free one (printed at start)."""
    record: bool = False
    """Record every completion whose label names a problem in the catalog (`--record`)."""
    samples_per_prompt: int = 1
    """OpenRLHF's `--n_samples_per_prompt`: how many completions of a problem make one epoch
    of the record (`--samples-per-prompt`)."""
    max_batch: int = 1024
    """Most math items graded in one batch."""
    max_body_mb: float = 64.0
    """Largest request body accepted."""
    idle_timeout_s: float = 120.0
    """A connection that sends nothing for this long is closed."""
    grader: GraderConfig = field(default_factory=GraderConfig)
    """The grader, as in every srpo command (`--workers`, `--timeout`, `grader.sandbox.*`)."""
    run: RunConfig = field(default_factory=RunConfig)
    """The catalog (`--catalog`) and the recorded run (`--run-id`, `run.store_responses`, ...)."""


class RewardService:
    """Grades protocol requests and records them (see the module docstring)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        # Chunks of 2: a request waits for the chunk its item is in, not for 16 comparisons.
        self.grader = SharedGrader(config.grader, chunk_size=2)
        self.grader.warm_up()
        self.queue = GradingQueue(self.grader, max_batch=config.max_batch)
        self.golds = GoldLookup(config.run.catalog)
        self.recorder: RunRecorder | None = None
        if config.record:
            settings = {"samples_per_prompt": config.samples_per_prompt}
            self.recorder = RunRecorder(
                config.run, kind="openrlhf", settings=settings, group_size=config.samples_per_prompt
            )
        self.requests = 0
        self.items = 0
        self.unrecorded = 0
        self._count_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="srpo-record", daemon=True)
        if self.recorder is not None:
            self._flusher.start()

    def score(self, requests: list[RewardRequest]) -> dict[str, Any]:
        targets = self._targets(requests)
        texts = [response_text(r.query, r.prompt) for r in requests]
        items = [grade_item(text, target) for text, target in zip(texts, targets, strict=True)]
        futures = iter(self.queue.submit([item for item in items if item is not None]))
        grades = [
            next(futures).result() if item is not None else missing_gold(t)
            for item, t in zip(items, targets, strict=True)
        ]
        self._record(targets, grades, texts)
        with self._count_lock:
            self.requests += 1
            self.items += len(requests)
        return reward_answer([g.reward for g in grades], [g.status == "correct" for g in grades])

    def _targets(self, requests: list[RewardRequest]) -> list[Target]:
        targets = [target_from_label(r.label) for r in requests]
        if any(not t.complete and t.problem_id for t in targets):
            # No catalog to look in: those items are graded `error` (missing gold).
            with contextlib.suppress(SrpoError):
                targets = self.golds.complete(targets)
        return targets

    def _record(self, targets: list[Target], grades: list[Grade], texts: list[str]) -> None:
        if self.recorder is None:
            return
        rows = [
            Completion(problem_id=t.problem_id, domain=t.domain, reward=g.reward, status=g.status,
                       response=text, extracted=g.extracted)
            for t, g, text in zip(targets, grades, texts, strict=True)
            if t.problem_id is not None
        ]  # fmt: skip
        with self._count_lock:
            self.unrecorded += len(targets) - len(rows)
        self.recorder.record(rows, flush=False)  # written by the flusher thread, not in the request

    def _flush_loop(self) -> None:
        interval = max(self.config.run.write_interval_s, 0.1)
        while not self._stop.wait(interval):
            try:
                if self.recorder is not None:
                    self.recorder.flush()
            except SrpoError as error:  # a locked catalog: try again at the next tick
                print(f"srpo-reward-server: could not write rollouts yet: {error}", file=sys.stderr)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "isolation": self.grader.isolation,
            "requests": self.requests,
            "items": self.items,
            "math_batches": self.queue.batches,
            "mean_math_batch": round(self.queue.batched_items / self.queue.batches, 2)
            if self.queue.batches
            else 0,
            "run_id": self.recorder.run_id if self.recorder else None,
            "unrecorded": self.unrecorded,
        }

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self.queue.close()
        if self.recorder is not None:
            notes = {"requests": self.requests, "items": self.items, "unrecorded": self.unrecorded}
            self.recorder.finish("completed", notes)
        self.grader.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many requests
    server: RewardHTTPServer

    def setup(self) -> None:
        self.timeout = self.server.service.config.idle_timeout_s
        super().setup()

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length")
        limit = int(self.server.service.config.max_body_mb * 1024 * 1024)
        if length is None or not length.isdigit():
            self.close_connection = True
            return self._answer(411, {"error": "a Content-Length header is required"})
        if int(length) > limit:
            self.close_connection = True  # the body is not read: the connection cannot go on
            return self._answer(413, {"error": f"body of {length} bytes is over max_body_mb"})
        body = self.rfile.read(int(length))
        try:
            requests = parse_request(json.loads(body))
        except json.JSONDecodeError as error:
            return self._answer(400, {"error": f"body is not valid JSON: {error.msg} at char {error.pos}"})
        except RequestError as error:
            return self._answer(400, {"error": str(error)})
        try:
            self._answer(200, self.server.service.score(requests))
        except Exception as error:  # an srpo bug: say so, keep serving
            self._answer(500, {"error": f"{type(error).__name__}: {error}"[:500]})

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("", "/health"):
            return self._answer(200, self.server.service.health())
        self._answer(404, {"error": "POST the reward protocol to any path; GET /health"})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class RewardHTTPServer(ThreadingHTTPServer):
    """A thread per connection; `service` grades."""

    daemon_threads = True
    request_queue_size = 256  # many trainer workers connect at once; the default backlog is 5

    def __init__(self, config: ServerConfig, *, verbose: bool = False) -> None:
        # Listen first: a taken port fails before the graders start or a run row is written.
        super().__init__((config.host, config.port), _Handler)
        self.verbose = verbose
        try:
            self.service = RewardService(config)
        except BaseException:
            self.server_close()
            raise

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/get_reward"


def start_server(config: ServerConfig, *, verbose: bool = False) -> RewardHTTPServer:
    """A running server (in a background thread); `stop_server` ends it."""
    server = RewardHTTPServer(config, verbose=verbose)
    threading.Thread(target=server.serve_forever, name="srpo-reward-server", daemon=True).start()
    return server


def stop_server(server: RewardHTTPServer) -> None:
    server.shutdown()
    server.server_close()
    server.service.close()


def serve(config: ServerConfig, *, verbose: bool = False) -> None:
    """Serve until SIGINT or SIGTERM, then write what is buffered and close the run."""
    import signal

    server = RewardHTTPServer(config, verbose=verbose)
    run = server.service.recorder
    print(
        f"srpo-reward-server: {server.url} (sandbox isolation {server.service.health()['isolation']}, "
        f"{config.grader.workers} workers" + (f", recording run {run.run_id}" if run else "") + ")",
        file=sys.stderr,
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    started = time.monotonic()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        service = server.service
        service.close()
        elapsed = time.monotonic() - started
        print(
            f"srpo-reward-server: stopped after {elapsed:.0f}s: {service.requests} requests, "
            f"{service.items} responses graded",
            file=sys.stderr,
        )
