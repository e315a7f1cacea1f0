"""Processes and DeepSpeed: who is rank 0, moving Python objects between ranks, the engine.

The trainer runs as one process per GPU, started by `deepspeed` or `torchrun` (they set RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT), or as a lone process, for which this module
makes a one-process group itself. On GPUs the collective backend is NCCL; on CPU it is gloo.

`build_engine` wraps the policy in DeepSpeed with a torch AdamW (no compiled optimiser ops, so
nothing is built on first use) and a warm-up/cosine schedule that DeepSpeed steps with the
optimiser. With `deepspeed.offload_optimizer` the optimiser states live in CPU memory and are
stepped there: by DeepSpeed's CPU Adam (`deepspeed.cpu_adam`, a C++ op DeepSpeed compiles on
first use), or by torch's AdamW, which DeepSpeed accepts only with
`zero_force_ds_cpu_optimizer: false`. Gradient accumulation is driven by the trainer: it marks
the last micro-batch of a mini-batch as the accumulation boundary and passes losses that are
already normalised.

Covers: joining and leaving the process group, object collectives, the DeepSpeed config and
engine, gathering ZeRO-3 parameters (for generation, weight sync and export). Does not cover: the
loss or the loop.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from srpo.errors import MissingDependencyError
from srpo.train import lr_schedule

if TYPE_CHECKING:
    from srpo.train.config import TrainConfig


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def init_processes() -> None:
    """Join the process group: the launcher's (RANK, WORLD_SIZE, MASTER_* in the environment), or
    a one-process group on a free local port when no launcher started us. The lone process's
    group is made here rather than through environment variables, so that child processes
    (a launcher started from a test, say) do not inherit a port that is already taken."""
    import deepspeed
    import torch

    if torch.distributed.is_initialized():
        return
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    if "RANK" not in os.environ:
        address = f"tcp://127.0.0.1:{_free_port()}"
        torch.distributed.init_process_group(backend, init_method=address, rank=0, world_size=1)
        os.environ.setdefault("LOCAL_RANK", "0")  # the DeepSpeed engine reads it
    # With torch.distributed ready, DeepSpeed only wraps it (no MPI discovery).
    deepspeed.init_distributed(dist_backend=backend, verbose=False)


@contextlib.contextmanager
def processes() -> Iterator[None]:
    """Inside: this process is in the process group (`init_processes`). On the way out a group
    joined here is left again, on every rank; one that was there before is left alone.

    Leaving matters: a process that exits while still in a gloo group can abort in its exit
    ("terminate called without an active exception", pytorch/pytorch#190489), and the launcher
    then calls a finished run failed. A finished run first waits for every rank, so that no rank
    exits while another still leaves (without torchrun's agent, rank 0's process serves the
    rendezvous store); a failing one leaves at once, since a stuck rank would keep a barrier
    waiting."""
    import torch

    joined = not torch.distributed.is_initialized()
    init_processes()
    finished = False
    try:
        yield
        finished = True
    finally:
        if joined:
            leave_processes(finished=finished)


def leave_processes(*, finished: bool) -> None:
    """Destroy the process group, if there is one (through DeepSpeed, which drops its own
    references to it)."""
    import torch

    if not torch.distributed.is_initialized():
        return
    import deepspeed.comm

    if finished and world_size() > 1:
        torch.distributed.barrier()
    deepspeed.comm.destroy_process_group()


def rank() -> int:
    import torch

    return torch.distributed.get_rank() if torch.distributed.is_initialized() else 0


def world_size() -> int:
    import torch

    return torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1


def is_main() -> bool:
    return rank() == 0


def device() -> Any:
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def broadcast(value: Any) -> Any:
    """Rank 0's `value`, on every rank."""
    import torch

    if world_size() == 1:
        return value
    box = [value]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def gather(value: Any) -> list[Any] | None:
    """Every rank's `value`, as a list in rank order on rank 0 (None elsewhere)."""
    import torch

    if world_size() == 1:
        return [value]
    found: list[Any] | None = [None] * world_size() if is_main() else None
    torch.distributed.gather_object(value, found, dst=0)
    return found


def all_sum(values: list[float]) -> list[float]:
    """Element-wise sums over ranks."""
    import torch

    if world_size() == 1:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=_collective_device())
    torch.distributed.all_reduce(tensor)
    return tensor.tolist()


def all_max(value: int) -> int:
    import torch

    if world_size() == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.int64, device=_collective_device())
    torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.MAX)
    return int(tensor.item())


def all_max_float(value: float) -> float:
    import torch

    if world_size() == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=_collective_device())
    torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.MAX)
    return float(tensor.item())


def _collective_device() -> Any:
    import torch

    return device() if torch.distributed.get_backend() == "nccl" else "cpu"


# ---------------------------------------------------------------------------------- engine


def training_dtype(config: TrainConfig) -> str:
    import torch

    if config.deepspeed.dtype == "auto":
        return "bfloat16" if torch.cuda.is_available() else "float32"
    return config.deepspeed.dtype


def deepspeed_config(config: TrainConfig) -> dict[str, Any]:
    """The DeepSpeed config dict; `deepspeed.extra` is merged on top, section by section."""
    zero: dict[str, Any] = {"stage": config.deepspeed.zero_stage}
    generated_extra: dict[str, Any] = {}
    if config.deepspeed.offload_optimizer:
        zero["offload_optimizer"] = {"device": "cpu"}
        if not config.deepspeed.cpu_adam:
            # DeepSpeed refuses a client optimiser with offload unless told that torch's is meant.
            generated_extra["zero_force_ds_cpu_optimizer"] = False
    if config.deepspeed.zero_stage == 3:
        # Lets the final export write the whole model from the shards.
        zero["stage3_gather_16bit_weights_on_model_save"] = True
    generated: dict[str, Any] = {
        # Micro-batches are counted by the trainer, which marks the accumulation boundary.
        "train_micro_batch_size_per_gpu": 1,
        "gradient_accumulation_steps": 1,
        "gradient_clipping": config.optim.max_grad_norm,
        "zero_optimization": zero,
        "bf16": {"enabled": training_dtype(config) == "bfloat16"},
        "steps_per_print": 1 << 62,
        "wall_clock_breakdown": False,
        **generated_extra,
    }
    for key, value in dict(config.deepspeed.extra).items():
        if isinstance(value, dict) and isinstance(generated.get(key), dict):
            generated[key] = {**generated[key], **value}
        else:
            generated[key] = value
    return generated


def build_engine(model: Any, config: TrainConfig) -> Any:
    """The DeepSpeed engine around `model`, with AdamW and the learning-rate schedule."""
    import deepspeed

    optimiser = _optimiser(model, config)
    scheduler = lr_schedule.scheduler(optimiser, config)
    engine, *_ = deepspeed.initialize(
        model=model, optimizer=optimiser, lr_scheduler=scheduler, config=deepspeed_config(config)
    )
    return engine


def _optimiser(model: Any, config: TrainConfig) -> Any:
    """AdamW: DeepSpeed's CPU Adam when the states are offloaded (and cpu_adam), else torch's."""
    import torch

    optim = config.optim
    parameters = [p for p in model.parameters() if p.requires_grad]
    settings = {"lr": optim.learning_rate, "betas": (optim.betas[0], optim.betas[1]), "eps": optim.eps,
                "weight_decay": optim.weight_decay}  # fmt: skip
    if config.deepspeed.offload_optimizer and config.deepspeed.cpu_adam:
        return _cpu_adam(parameters, settings)
    return torch.optim.AdamW(parameters, **settings)


def _cpu_adam(parameters: list[Any], settings: dict[str, Any]) -> Any:
    try:
        from deepspeed.ops.adam import DeepSpeedCPUAdam

        return DeepSpeedCPUAdam(parameters, adamw_mode=True, **settings)
    except Exception as error:  # the op failed to build or load (no compiler, no headers)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise MissingDependencyError(
            f"deepspeed.cpu_adam: DeepSpeed's CPU Adam op could not be built or loaded ({first}); "
            "set deepspeed.cpu_adam=false to step the offloaded states with torch's AdamW"
        ) from error


@contextlib.contextmanager
def whole_for_generation(engine: Any, zero_stage: int) -> Iterator[Any]:
    """Inside: the policy's module with every parameter whole on this rank, for generation.
    Under ZeRO-3 the parameters are gathered once, and DeepSpeed's per-module hooks (which
    would fetch and release parameters around every module call of every decoding step) are
    taken off for the block and put back after it, as TRL does around generation."""
    module = engine.module
    if zero_stage != 3:
        yield module
        return
    import deepspeed

    offload = getattr(getattr(engine, "optimizer", None), "parameter_offload", None)
    with deepspeed.zero.GatheredParameters(list(module.parameters())):
        if offload is None:
            yield module
            return
        _remove_zero3_hooks(offload)
        try:
            yield module
        finally:
            _restore_zero3_hooks(offload)


def _remove_zero3_hooks(offload: Any) -> None:
    for parameter in offload.module.parameters(recurse=True):
        parameter.ds_active_sub_modules.clear()
    for hook in [*offload.forward_hooks, *offload.backward_hooks]:
        hook.remove()
    offload.forward_hooks, offload.backward_hooks = [], []


def _restore_zero3_hooks(offload: Any) -> None:
    coordinator = getattr(offload, "param_coordinator", None)
    if hasattr(coordinator, "is_invalid_trace") and not coordinator.is_invalid_trace():
        coordinator._invalidate_trace()  # the prefetch trace of training no longer holds
    offload._register_deepspeed_module(offload.module)


def gathered(model: Any, zero_stage: int) -> contextlib.AbstractContextManager:
    """Inside: every parameter of a ZeRO-3 model is whole on this rank (a no-op below stage 3)."""
    if zero_stage != 3:
        return contextlib.nullcontext()
    import deepspeed

    return deepspeed.zero.GatheredParameters(list(model.parameters()))


def named_weights(model: Any, zero_stage: int) -> Iterator[tuple[str, Any]]:
    """(name, tensor) pairs of the whole model in Hugging Face naming, for weight sync, one at a
    time and never copied. Under ZeRO-3 each parameter is gathered while its pair is out: the
    consumer loads (copies) it before asking for the next, and the gathered tensor stays intact
    for whoever keeps a reference (DeepSpeed gives the parameter a new, empty tensor when it
    re-partitions, it does not clear the old one)."""
    if zero_stage != 3:
        yield from model.state_dict().items()
        return
    import deepspeed

    for name, parameter in model.named_parameters():
        with deepspeed.zero.GatheredParameters([parameter]):
            yield name, parameter.data
