"""Peak memory of one GRPO policy update: srpo's and TRL's GRPOTrainer on the same model and batch.

The model is a small random Qwen2 built from a config with Qwen2.5's vocabulary (151,936 tokens,
tied embeddings, float32, CPU); the batch is `--samples` responses of `--response-tokens` tokens
after a `--prompt-tokens`-token prompt (random ids, two groups, advantages +-1). One update:
forward, backward and one AdamW step over the whole batch, no KL term (TRL's beta 0), the token-
mean loss (TRL `dapo`, srpo `token`), gradient checkpointing on in both (TRL's default; srpo's
`deepspeed.gradient_checkpointing`), no importance weights (no engine log-probs on either side).
srpo runs `srpo.train.update.policy_update` on its DeepSpeed engine (ZeRO stage `--zero-stage`,
default 0: the same plain AdamW over the same parameters as TRL's; the ZeRO stages shard over
GPUs and only add flat buffers on one CPU process) with its default token budget per
micro-batch; TRL runs `GRPOTrainer.compute_loss` (its fused, chunked LM head included, as TRL
1.16 patches it into every GRPO model), `accelerator.backward` and its optimiser's step, with
the whole batch in one forward (per_device_train_batch_size = the batch).

How memory is measured: torch's CPU allocator keeps no peak statistics and tracemalloc does not
see torch's allocations, so each side runs in a fresh child process (this script with
`--side srpo|trl`) that loads the model, builds its trainer and the batch, then resets the
kernel's peak-RSS counter (writing 5 to /proc/self/clear_refs; Linux), runs the update, and reads
the peak (VmHWM in /proc/self/status). `update peak` is that peak minus the RSS just before the
update: the memory the update itself needed at its worst moment, on top of the loaded model,
trainer and batch (which are the same size on both sides). The absolute peaks are printed too;
they include about half a GiB of interpreter and libraries that a GPU's memory would not hold.
The sides run in alternating rounds (`_common.compare`); the last line is
`ratio train_memory: <TRL update peak / srpo update peak>` (higher: srpo needs less).

Usage: just bench train_memory [--samples 8] [--response-tokens 1024] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Side, compare, report

VOCAB = 151_936


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def build_model(directory: Path, hidden: int) -> None:
    """A random Qwen2 with Qwen2.5's vocabulary, and a small tokenizer (the ids are random)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from srpo.testing.tiny_model import train_tokenizer

    tokenizer = train_tokenizer(256)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=VOCAB, hidden_size=hidden, intermediate_size=4 * hidden, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=hidden // 4, max_position_embeddings=4096,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    Qwen2ForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def batch(args: argparse.Namespace) -> tuple[list[list[int]], list[list[int]], list[float]]:
    import torch

    generator = torch.Generator().manual_seed(1)
    prompts = [torch.randint(10, VOCAB, (args.prompt_tokens,), generator=generator).tolist()] * args.samples
    responses = [
        torch.randint(10, VOCAB, (args.response_tokens,), generator=generator).tolist()
        for _ in range(args.samples)
    ]
    advantages = [1.0 if i % 2 else -1.0 for i in range(args.samples)]
    return prompts, responses, advantages


def srpo_update(args: argparse.Namespace, model_dir: Path) -> tuple[float, float]:
    """Build srpo's engine and batch, then run one update; returns (RSS before, loss)."""
    import torch
    from transformers import AutoModelForCausalLM

    from srpo.config import load_config
    from srpo.train import distributed
    from srpo.train.config import TrainConfig
    from srpo.train.rollouts import Rollout
    from srpo.train.update import policy_update

    settings = [
        f"deepspeed.zero_stage={args.zero_stage}", "deepspeed.gradient_checkpointing=true",
        "objective.kl_coef=0", "optim.learning_rate=1e-6", f"sampling.n={args.samples // 2}",
        f"sampling.max_new_tokens={args.response_tokens}",
    ]  # fmt: skip
    config = load_config(TrainConfig, None, settings)
    distributed.init_processes()
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    engine = distributed.build_engine(model, config)
    prompts, responses, advantages = batch(args)
    rollouts = [
        Rollout(problem_id=f"p{i // 2}", domain="math", sample_idx=i % 2, prompt_ids=tuple(p),
                response_ids=tuple(r), text="", finish_reason="length", reward=0.0, status="wrong",
                extracted=None)
        for i, (p, r) in enumerate(zip(prompts, responses, strict=True))
    ]  # fmt: skip
    before = _reset_peak()
    stats = policy_update(engine, rollouts, torch.tensor(advantages), [1.0] * len(rollouts), config, step=1,
                          pad_id=0)  # fmt: skip
    return before, stats.loss


def trl_update(args: argparse.Namespace, model_dir: Path) -> tuple[float, float]:
    """Build TRL's GRPOTrainer and the batch in its input format, then run one update."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    config = GRPOConfig(
        output_dir=str(model_dir / "trl"), use_cpu=True, bf16=False, report_to=[], save_strategy="no",
        per_device_train_batch_size=args.samples, num_generations=args.samples // 2,
        gradient_accumulation_steps=1, max_completion_length=args.response_tokens, learning_rate=1e-6,
        beta=0.0, loss_type="dapo", epsilon=0.2, epsilon_high=0.28, gradient_checkpointing=True,
        num_iterations=1, disable_tqdm=True,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32),
        reward_funcs=lambda completions, **_: [0.0] * len(completions),
        args=config,
        train_dataset=Dataset.from_dict({"prompt": ["x"] * args.samples}),
        processing_class=AutoTokenizer.from_pretrained(model_dir),
    )
    trainer.create_optimizer_and_scheduler(num_training_steps=1)
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1  # set by TRL's own training loop
    prompts, responses, advantages = batch(args)
    completion_mask = torch.ones(args.samples, args.response_tokens, dtype=torch.long)
    inputs = {
        "prompt_ids": torch.tensor(prompts),
        "prompt_mask": torch.ones(args.samples, args.prompt_tokens, dtype=torch.long),
        "completion_ids": torch.tensor(responses), "completion_mask": completion_mask,
        "advantages": torch.tensor(advantages), "num_items_in_batch": completion_mask.sum(),
    }  # fmt: skip
    before = _reset_peak()
    loss = trainer.compute_loss(trainer.model, inputs)
    trainer.accelerator.backward(loss)
    trainer.optimizer.step()
    trainer.optimizer.zero_grad()
    return before, float(loss.detach())


def _reset_peak() -> float:
    import gc

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak RSS restarts from the current RSS
    return _rss_mib("VmRSS")


def child(args: argparse.Namespace) -> None:
    import torch

    torch.manual_seed(0)
    started = time.perf_counter()
    update = srpo_update if args.side == "srpo" else trl_update
    before, loss = update(args, Path(args.model))
    peak = _rss_mib("VmHWM")
    result = {"before_mib": before, "peak_mib": peak, "update_mib": peak - before, "loss": loss,
              "seconds": time.perf_counter() - started}  # fmt: skip
    print("RESULT " + json.dumps(result), flush=True)


def run_side(args: argparse.Namespace, side: str, model_dir: Path, found: dict[str, list[dict]]) -> float:
    command = [sys.executable, __file__, "--side", side, "--model", str(model_dir),
               "--samples", str(args.samples), "--prompt-tokens", str(args.prompt_tokens),
               "--response-tokens", str(args.response_tokens),
               "--zero-stage", str(args.zero_stage)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"the {side} side failed:\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1].removeprefix("RESULT "))
    found.setdefault(side, []).append(result)
    report(
        f"{side} round",
        f"update peak {result['update_mib']:.0f} MiB, absolute peak {result['peak_mib']:.0f} MiB, "
        f"before {result['before_mib']:.0f} MiB, loss {result['loss']:.4g}, {result['seconds']:.0f} s",
    )
    return result["update_mib"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=8, help="responses in the batch (two groups)")
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--response-tokens", type=int, default=1024)
    parser.add_argument("--hidden", type=int, default=128, help="model width (the vocabulary is Qwen2.5's)")
    parser.add_argument("--zero-stage", type=int, default=0, help="srpo's deepspeed.zero_stage")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds (each side in a fresh process)"
    )
    parser.add_argument("--side", choices=("srpo", "trl"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        child(args)
        return
    import trl

    for key, value in (("vocabulary", VOCAB), ("hidden_size", args.hidden), ("samples", args.samples),
                       ("prompt_tokens", args.prompt_tokens), ("response_tokens", args.response_tokens),
                       ("srpo_zero_stage", args.zero_stage), ("trl_version", trl.__version__)):  # fmt: skip
        report(key, value)
    found: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        build_model(model_dir, args.hidden)
        compare(
            "train_memory",
            Side("srpo update peak", lambda: run_side(args, "srpo", model_dir, found)),
            Side("trl update peak", lambda: run_side(args, "trl", model_dir, found)),
            rounds=args.rounds,
            warmup=0,
            unit="MiB",
            lower_is_better=True,
        )


if __name__ == "__main__":
    main()
