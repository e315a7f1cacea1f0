#!/usr/bin/env bash
# Opt-in smoke test of srpo's verl integration with verl's own code (`just verl-smoke`).
#
# Creates .venv-verl (gitignored), a separate environment with verl (and so Ray, hydra,
# tensordict, torchdata, numpy<2), torch (the CPU wheel under constraints.txt) and srpo itself,
# then runs scripts/verl_smoke.py there: verl's reward manager calling srpo's compute_score
# through `custom_reward_function`, and verl's `create_rl_sampler` / `RLHFDataset` /
# `StatefulDataLoader` driving srpo's curriculum sampler over a `--export verl` parquet for two
# epochs, on CPU. It does not start Ray workers or a rollout engine (those need GPUs): responses
# are made up, so the checks are exact.
#
# Why a separate environment: verl pins tensordict and hydra (and with it an older ANTLR
# runtime), and brings Ray; none of that belongs in the main .venv.
# Why verl 0.7.1: the curriculum sampler hook (`data.sampler.class_path`, verl's
# AbstractCurriculumSampler and its `update(batch)` call) is in verl 0.5 to 0.7; 0.8 and 0.9
# replaced it with the v1 trainer's replay buffer (`trainer.v1.sampler.custom_sampler`), which
# srpo's sampler does not implement. `compute_score`'s call is the same in 0.9.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VERL_VENV:-.venv-verl}
version=${VERL_VERSION:-0.7.1}
stamp="$venv/.srpo-verl"
# Reinstalled when verl's version or srpo's dependencies change.
want="$version-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"

if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    test -x "$venv/bin/python" || python3 -m venv "$venv"
    # pyarrow before 22 still runs on the numpy<2 that verl 0.7 pins.
    "$venv/bin/python" -m pip install -q -c constraints.txt "verl==$version" torch "pyarrow>=19,<22" -e .
    echo "$want" > "$stamp"
fi
export PYTHONPATH=src
exec "$venv/bin/python" scripts/verl_smoke.py "$@"
