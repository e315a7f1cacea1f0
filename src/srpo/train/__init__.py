"""Training: the GRPO objective, the DeepSpeed loop, history resampling, the stage switch.

`train(catalog, model, config)` (in `trainer`) runs SRPO-style GRPO on a catalog: each epoch's
problems come from the history-resampling query (`resampling.plan_epoch`), rollouts from a
`srpo.rollout` engine (`rollouts`), rewards from `srpo.verify.grading`, the update from DeepSpeed (`update`,
`distributed`), and every rollout goes back into the catalog. `TrainConfig` (in `config`) holds
every setting. `srpo-train` (`srpo.cli.train`) is the command line.

With `srpo.rollout` and `srpo.testing`, the only packages that import torch, transformers,
deepspeed or vllm, always inside functions: importing `srpo.train` or its config and query
modules imports none of them.
"""
