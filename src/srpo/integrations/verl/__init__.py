"""srpo for verl: the reward and the curriculum sampler.

    reward.custom_reward_function.path=pkg://srpo.integrations.verl   # verl < 0.7: custom_reward_function.*
    reward.custom_reward_function.name=compute_score
    data.sampler.class_path=pkg://srpo.integrations.verl
    data.sampler.class_name=HistoryResamplingSampler
    data.dataloader_num_workers=0
    +data.sampler.catalog=srpo.duckdb +data.sampler.run_id=verl-run-1

Public API: `compute_score`, `compute_score_batch` (`score`), `HistoryResamplingSampler` (built
on first access with verl's `AbstractCurriculumSampler` as a base when verl is installed),
`HistoryResampling` (its logic), `batch_completions`. Importing this package imports neither
verl nor torch.
"""

from typing import Any

from srpo.integrations.verl.sampler import HistoryResampling, batch_completions, sampler_class
from srpo.integrations.verl.score import compute_score, compute_score_batch

__all__ = [
    "HistoryResampling",
    "HistoryResamplingSampler",
    "batch_completions",
    "compute_score",
    "compute_score_batch",
]


def __getattr__(name: str) -> Any:
    # verl loads the sampler with getattr(module, class_name): the class is made on that access.
    if name == "HistoryResamplingSampler":
        return sampler_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
