"""`just gpu-check`: srpo's GPU training path, checked on one GPU in a few minutes, offline.

What it runs (nothing is downloaded):
1. a model built from a config with Qwen2.5-0.5B's shapes (vocabulary 151,936, 24 layers, width
   896, 14 query and 2 key/value heads, MLP 4,864, tied embeddings; random weights) and a small
   tokenizer trained on the spot, given a short supervised warm-up on subtraction so that it
   writes `\\boxed{n}` answers (as `srpo.testing.toy_task` does for its tiny model): rewards then
   differ within groups, so the updates are real;
2. the toy catalog of single-digit sums (`srpo.testing.toy_task`), and srpo's trainer on it with
   the transformers engine on the live policy, bf16, DeepSpeed ZeRO-2 and then ZeRO-3, three
   steps each with objective.kl_coef 0.05 and sampling.temperature 0.6;
3. per step: time (generation, update, whole step), the peak GPU memory of generation and of the
   update (torch's max allocated), loss, KL, grad norm, accuracy and the trainer/engine log-prob
   difference; per phase its peak memory. Any non-finite loss, KL or grad norm fails the check;
4. with vLLM installed: `check_vllm_sync`, through srpo's public engine API: vLLM loads the
   model, the trainer's copy of the weights moves, and after `update_weights` vLLM's log-probs
   of its greedy tokens must equal the trainer's (before the sync they must not).

`--device cpu --small` runs the same steps on CPU with a tiny model in float32 (a few minutes),
which proves the script itself without a GPU. Exit status: 0 when every check passed, 1 otherwise.

Usage: just gpu-check [--steps 3] [--max-new-tokens 256] [--skip-vllm]
       python scripts/gpu_check.py --device cpu --small
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QWEN25_05B = {
    "vocab_size": 151_936, "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
    "num_attention_heads": 14, "num_key_value_heads": 2, "head_dim": 64, "max_position_embeddings": 32768,
    "rope_theta": 1_000_000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
}  # fmt: skip
"""Qwen2.5-0.5B's config.json shapes."""


def say(key: str, value: object) -> None:
    print(f"{key}: {value}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--small", action="store_true", help="a tiny model instead of Qwen2.5-0.5B's shapes")
    parser.add_argument("--steps", type=int, default=3, help="training steps per ZeRO stage")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default 256 (GPU), 12 (--small)")
    parser.add_argument("--stages", default="2,3", help="ZeRO stages to run, in order")
    parser.add_argument("--skip-vllm", action="store_true", help="leave out the vLLM weight-sync check")
    parser.add_argument("--output", type=Path, default=None, help="keep the runs here (default: a temp dir)")
    args = parser.parse_args()
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "gpu-check: no CUDA device; run `python scripts/gpu_check.py --device cpu --small`",
            file=sys.stderr,
        )
        return 2
    describe_environment(args)
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.output or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        model_dir = prepare_model(root / "model", args)
        from srpo.testing.toy_task import write_toy_catalog

        catalog = write_toy_catalog(root / "toy.duckdb")
        for stage in [int(s) for s in args.stages.split(",")]:
            failures += train_phase(catalog, model_dir, root, stage, args)
        if args.skip_vllm:
            say("vllm", "skipped (--skip-vllm)")
        elif args.device != "cuda":
            say("vllm", "skipped (vLLM's check needs the GPU)")
        elif not _has_vllm():
            say("vllm", "not installed; weight-sync check skipped")
        else:
            failures += check_vllm_sync(model_dir)
    for failure in failures:
        print(f"FAILED: {failure}", flush=True)
    say("gpu-check", "passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


def describe_environment(args: argparse.Namespace) -> None:
    import torch
    import transformers

    say("torch", torch.__version__)
    say("transformers", transformers.__version__)
    try:
        import deepspeed

        say("deepspeed", deepspeed.__version__)
    except ImportError:
        say("deepspeed", "missing (just gpu-check installs the wheel carried in .whl/)")
        raise
    say("device", torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu")
    say("model", "tiny (--small)" if args.small else "Qwen2.5-0.5B shapes, random weights")


# ------------------------------------------------------------------------------------ the model


def prepare_model(directory: Path, args: argparse.Namespace) -> Path:
    """The model of the check, warmed up on the answer format; returns its folder."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    from srpo.testing.tiny_model import TinyModelConfig, train_tokenizer
    from srpo.testing.toy_task import sum_problems

    started = time.perf_counter()
    texts = [f"{q}\n\\boxed{{{a}}}" for q, a in sum_problems()]
    tokenizer = train_tokenizer(512, texts)
    special = {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
               "pad_token_id": tokenizer.pad_token_id}  # fmt: skip
    if args.small:
        tiny = TinyModelConfig()
        shapes = {
            "vocab_size": len(tokenizer), "hidden_size": tiny.hidden_size,
            "intermediate_size": tiny.intermediate_size, "num_hidden_layers": tiny.num_hidden_layers,
            "num_attention_heads": tiny.num_attention_heads, "num_key_value_heads": tiny.num_key_value_heads,
            "head_dim": tiny.hidden_size // tiny.num_attention_heads, "tie_word_embeddings": True,
        }  # fmt: skip
    else:
        shapes = QWEN25_05B
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**shapes, **special, torch_dtype="float32"))
    model.generation_config = GenerationConfig(**special)
    say("parameters", f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f} M")
    loss = warm_up(model, tokenizer, args)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    say("warm-up", f"loss {loss:.3f}, {time.perf_counter() - started:.0f} s (build, warm-up, save)")
    return directory


def warm_up(model: Any, tokenizer: Any, args: argparse.Namespace) -> float:
    """Supervised steps on "What is a - b?" -> \\boxed{a-b}: the answer format, not the sums."""
    import torch

    pairs = [(f"What is {a} - {b}?\n", f"\\boxed{{{a - b}}}") for a in range(1, 10) for b in range(a)]
    random.Random(0).shuffle(pairs)
    device = torch.device(args.device)
    model.to(device)
    ids, labels, attention = _teaching_rows(tokenizer, pairs, device)
    steps, rate = (200, 3e-3) if args.small else (150, 3e-4)
    optimiser = torch.optim.AdamW(model.parameters(), lr=rate, weight_decay=0.0)
    model.train()
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = model(input_ids=ids, attention_mask=attention, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    model.to("cpu")
    del optimiser
    _free()
    return float(loss.detach())


def _teaching_rows(tokenizer: Any, pairs: list[tuple[str, str]], device: Any):
    import torch

    rows = []
    for prompt, completion in pairs:
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer = [*tokenizer(completion, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
        rows.append((prompt_ids + answer, [-100] * len(prompt_ids) + answer))
    width = max(len(ids) for ids, _ in rows)
    ids = torch.tensor([i + [tokenizer.pad_token_id] * (width - len(i)) for i, _ in rows], device=device)
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows], device=device)
    attention = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in rows], device=device)
    return ids, labels, attention


# --------------------------------------------------------------------------------- training


def train_phase(catalog: Any, model_dir: Path, root: Path, stage: int, args: argparse.Namespace) -> list[str]:
    """Three steps of the real trainer at one ZeRO stage; returns what failed."""
    import torch

    from srpo.testing.toy_task import toy_config
    from srpo.train.trainer import train

    gpu = args.device == "cuda"
    max_new = args.max_new_tokens or (256 if gpu else 12)
    config = toy_config(
        root / f"zero{stage}",
        f"deepspeed.zero_stage={stage}", f"deepspeed.dtype={'bfloat16' if gpu else 'float32'}",
        "objective.kl_coef=0.05", "sampling.temperature=0.6", f"budget.max_steps={args.steps}",
        f"sampling.max_new_tokens={max_new}", "data.prompts_per_step=8", "sampling.n=8",
        "engine.batch_size=64", "objective.micro_batch_size=null", "objective.micro_batch_tokens=16384",
        "optim.learning_rate=1e-5", "data.drop_solved=false",
    )  # fmt: skip
    print(f"--- ZeRO-{stage}: {args.steps} steps, bf16={gpu}, kl_coef 0.05, temperature 0.6, "
          f"{max_new} new tokens, 8 prompts x 8 samples", flush=True)  # fmt: skip
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    failures: list[str] = []

    def on_step(metrics: dict) -> None:
        print(step_line(metrics), flush=True)
        for key in ("loss", "kl", "grad_norm"):
            value = metrics.get(key)
            if value is None or not math.isfinite(value):
                failures.append(f"ZeRO-{stage} step {metrics['step']}: {key} = {value}")

    started = time.perf_counter()
    report = train(catalog, str(model_dir), config, run_id=f"gpu-check-zero{stage}", on_step=on_step)
    seconds = time.perf_counter() - started
    say(f"zero{stage} status", f"{report.status} ({report.stop_reason}), {seconds:.0f} s with set-up")
    if gpu:
        allocated, reserved = (
            torch.cuda.max_memory_allocated() / 2**30,
            torch.cuda.max_memory_reserved() / 2**30,
        )
        say(f"zero{stage} peak memory", f"{allocated:.2f} GiB allocated, {reserved:.2f} GiB reserved")
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        say(f"zero{stage} peak memory", f"{peak:.2f} GiB (the process's peak RSS so far)")
    if report.last_step != args.steps:
        failures.append(f"ZeRO-{stage}: stopped after step {report.last_step} ({report.stop_reason})")
    del report
    _free()
    return failures


def step_line(metrics: dict) -> str:
    def number(key: str, spec: str) -> str:
        value = metrics.get(key)
        return "-" if value is None else format(value, spec)

    return " | ".join(
        [
            f"step {metrics['step']}: {number('time/step_s', '.1f')} s (generate "
            f"{number('time/generate_s', '.1f')}, update {number('time/train_s', '.1f')})",
            f"memory generate {number('memory/generate_gib', '.2f')} GiB, "
            f"update {number('memory/update_gib', '.2f')} GiB",
            f"loss {number('loss', '+.5f')} kl {number('kl', '.5f')} grad_norm {number('grad_norm', '.4f')}",
            f"accuracy {number('accuracy/mean', '.3f')} length {number('response_length/mean', '.1f')}",
            f"logp diff mean {number('sampling/logp_diff/mean', '.2e')} "
            f"max {number('sampling/logp_diff/max', '.2e')} "
            f"is_ratio {number('sampling/is_ratio/mean', '.4f')}",
        ]
    )


def _free() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ------------------------------------------------------------------------------------- vLLM


def _has_vllm() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def check_vllm_sync(model_dir: Path) -> list[str]:
    """A weight sync must make vLLM's log-probs the trainer's, through srpo's public engine API:
    vLLM loads the model from disk; the trainer's copy is moved (noise on every weight); vLLM's
    greedy tokens and their log-probs are compared with the trainer's log-probs of the same
    tokens before and after `update_weights`. Needs an engine that returns `Sample.logprobs`."""
    import torch
    from transformers import AutoModelForCausalLM

    from srpo.rollout.prompts import PromptTemplate, build_prompt
    from srpo.rollout.sampling import SamplingConfig
    from srpo.rollout.vllm_engine import VLLMEngine, VLLMEngineConfig
    from srpo.train.tokens import pack, token_logprobs

    print("--- vLLM weight sync", flush=True)
    policy = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).to("cuda").eval()
    prompt = build_prompt(question="What is 4 + 3?", domain="math", template=PromptTemplate(kind="plain"))
    greedy = SamplingConfig(n=1, temperature=0.0, max_new_tokens=16, seed=0)
    # In the training process, as srpo-train colocates it: update_weights streams the tensors.
    settings = VLLMEngineConfig(model=str(model_dir), dtype="bfloat16", gpu_memory_utilization=0.3,
                                max_model_len=512, enforce_eager=True, in_process=True, seed=0)  # fmt: skip
    engine = VLLMEngine(settings)

    def difference() -> float | None:
        [completion] = engine.generate([prompt], greedy)
        sample = completion.samples[0]
        if sample.logprobs is None:
            return None
        packed = pack([completion.prompt_token_ids], [sample.token_ids], pad_id=0, device="cuda")
        with torch.no_grad():
            ours, _ = token_logprobs(policy, packed, temperature=0.0)
        ours = ours[0][packed.response_mask[0] > 0].float().cpu()
        return float((ours - torch.tensor(sample.logprobs)).abs().max())

    failures: list[str] = []
    try:
        loaded = difference()
        if loaded is None:
            return ["vLLM: the engine returns no Sample.logprobs (needed to compare with the trainer)"]
        with torch.no_grad():
            for parameter in policy.parameters():
                parameter.add_(torch.randn_like(parameter) * 0.02)
        stale = difference()
        engine.update_weights((name, tensor) for name, tensor in policy.state_dict().items())
        synced = difference()
        say("vllm logp diff (max |vLLM - trainer|)", f"loaded {loaded:.3g}, weights moved {stale:.3g}, "
            f"after sync {synced:.3g}")  # fmt: skip
        # bf16 kernels differ a little; a missed sync differs by the whole move of the weights
        if synced is None or stale is None or not synced < min(0.25, stale / 4):
            failures.append(f"vLLM: after the sync its log-probs differ from the trainer's by {synced} "
                            f"(before it: {stale})")  # fmt: skip
    finally:
        engine.close()
    return failures


if __name__ == "__main__":
    sys.exit(main())
