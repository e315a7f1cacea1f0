"""srpo inside the trainers people already run: TRL, verl and OpenRLHF.

Each trainer gets srpo's graders as its reward, a record of every completion in the catalog
(`runs` of kind `trl`, `verl` or `openrlhf`, `rollouts`, `epoch_problems`), and history
resampling as its data order, so `srpo-curate query --next-epoch RUN` answers for those runs
as it does for `srpo-train`'s:

- `srpo.integrations.trl`: reward functions for `GRPOTrainer(reward_funcs=...)`, a
  `TrainerCallback` recording completions, a sampler that makes each epoch srpo's query;
- `srpo.integrations.verl`: `compute_score` for `custom_reward_function` and a curriculum sampler
  for `data.sampler`;
- `srpo.integrations.openrlhf`: `srpo-reward-server`, an HTTP reward server for
  `--remote_rm_url`.

Shared here: `config` (the srpo side of a peer run), `scoring` (a warm grader per process and
turning a trainer's ground truth into grade items), `recorder` (the catalog record),
`epochs` (planning an epoch with the resampling query).

Imported by no other srpo package; imports nothing heavy at import time (the trainers' own
packages are imported inside the functions that need them).
"""
