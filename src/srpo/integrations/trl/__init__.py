"""srpo for TRL's `GRPOTrainer`: reward functions, the catalog record, history resampling.

    from srpo.integrations.trl import TRLRun, srpo_reward

    GRPOTrainer(..., reward_funcs=srpo_reward)            # srpo's graders only, nothing recorded

    srpo = TRLRun(catalog="srpo.duckdb", data=DataConfig(include_unrated=True))
    trainer = GRPOTrainer(..., train_dataset=srpo.dataset(), reward_funcs=srpo.reward_funcs,
                          callbacks=[srpo.callback])
    srpo.resample(trainer)                                # epochs by history resampling
    trainer.train()                                       # srpo-curate query --next-epoch <srpo.run_id>

Public API: `TRLRun`, `TRLRewards`, `math_reward`, `code_reward`, `srpo_reward`,
`CompletionLog`, `catalog_callback`, `HistoryResamplingSampler`, `use_history_resampling`.
Importing this package imports neither TRL nor torch.
"""

from srpo.integrations.trl.callback import CompletionLog, catalog_callback
from srpo.integrations.trl.rewards import TRLRewards, code_reward, math_reward, srpo_reward
from srpo.integrations.trl.run import TRLRun
from srpo.integrations.trl.sampler import HistoryResamplingSampler, use_history_resampling

__all__ = [
    "CompletionLog",
    "HistoryResamplingSampler",
    "TRLRewards",
    "TRLRun",
    "catalog_callback",
    "code_reward",
    "math_reward",
    "srpo_reward",
    "use_history_resampling",
]
