"""Rollout engines: sample `n` responses per prompt with transformers, vLLM or an OpenAI-compatible
server, behind one interface (`RolloutEngine`), and how a problem is asked (`prompts`).

Used by `srpo-curate difficulty` (rating problems) and by the trainer; it knows nothing of the
catalog, grading or training. Public API: `EngineConfig` (the `engine` section of a config),
`SamplingConfig`, `Sample`, `Completion`, `RolloutEngine`, `UpdatableEngine`, `create_engine`,
`engine_config`, `BACKENDS`; the backend configs live in their modules (`transformers_engine`,
`vllm_engine`, `openai_engine`). Importing this package imports neither torch nor vLLM: backends
are imported when an engine is created.
"""

from srpo.rollout.backends import backend_of, create_engine, engine_config
from srpo.rollout.config import BACKENDS, EngineConfig, OpenAISettings, VLLMSettings
from srpo.rollout.engine import RolloutEngine, UpdatableEngine
from srpo.rollout.sampling import Completion, FinishReason, Sample, SamplingConfig

__all__ = [
    "BACKENDS",
    "Completion",
    "EngineConfig",
    "FinishReason",
    "OpenAISettings",
    "RolloutEngine",
    "Sample",
    "SamplingConfig",
    "UpdatableEngine",
    "VLLMSettings",
    "backend_of",
    "create_engine",
    "engine_config",
]
