"""Rollout engines: sample `n` responses per prompt with transformers, vLLM or an OpenAI-compatible
server, behind one interface (`RolloutEngine`).

Public API: `SamplingConfig`, `Sample`, `Completion`, `RolloutEngine`, `UpdatableEngine`,
`engine_config`, `create_engine`, `BACKENDS`; the backend configs live in their modules
(`transformers_engine`, `vllm_engine`, `openai_engine`). Importing this package imports neither
torch nor vLLM: backends are imported when an engine is created.
"""

from srpo.rollout.backends import BACKENDS, backend_of, create_engine, engine_config
from srpo.rollout.engine import (
    Completion,
    FinishReason,
    RolloutEngine,
    Sample,
    SamplingConfig,
    UpdatableEngine,
)

__all__ = [
    "BACKENDS",
    "Completion",
    "FinishReason",
    "RolloutEngine",
    "Sample",
    "SamplingConfig",
    "UpdatableEngine",
    "backend_of",
    "create_engine",
    "engine_config",
]
