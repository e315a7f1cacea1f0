"""The training config: one typed, nested dataclass, loaded from TOML or YAML plus `--set a.b=v`.

`TrainConfig` is what `srpo-train --config FILE` reads (through `srpo.config.load_config`), what
it prints at the start of a run and what it stores in `runs.config`. Each field's docstring names
the paper the knob comes from. Nothing here imports torch.

Covers: the fields, their defaults and their checks. Does not cover: what the loop does with
them (`trainer`), the data query (`resampling`) or the loss (`objective`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from srpo.errors import InputError
from srpo.rollout.config import EngineConfig, VLLMSettings
from srpo.rollout.prompts import PromptTemplate
from srpo.rollout.sampling import SamplingConfig
from srpo.verify.config import GraderConfig

DIFFICULTY_LEVELS = ("easy", "medium", "hard")


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """Which catalog problems an epoch trains on, and how history resampling filters them."""

    difficulties: tuple[str, ...] = ("medium", "hard")
    """Difficulty buckets to train on (`srpo-curate difficulty`); easy problems give little
    gradient (SRPO trains on challenging problems)."""
    include_unrated: bool = False
    """Also problems without a difficulty (small or new catalogs are often unrated)."""
    verified_only: bool = True
    """Only problems whose gold answer or tests were verified (`srpo-curate verify`)."""
    sources: tuple[str, ...] = ()
    """Only these sources (empty: all)."""
    where: str | None = None
    """Extra SQL condition over `problems`, e.g. "split = 'train'"."""
    code_share: float | None = None
    """Stage 2: the share of code problems in an epoch (the larger domain is subsampled to
    reach it); None trains on every eligible problem of both domains. SRPO's stage 2 mixes
    math and code to grow reasoning and coding together."""
    epoch_size: int | None = None
    """At most this many problems per epoch (after shuffling); None: all of them."""
    prompts_per_step: int = 32
    """Problems per rollout step, over all ranks (each rank samples its share); every problem gets
    `sampling.n` responses."""
    sampling: Literal["history", "uniform", "dynamic"] = "history"
    """Which problems and groups a step trains on. `history`: history resampling (SRPO,
    Kwaipilot 2025): after an epoch, a problem whose rollouts were all correct is left out of
    the next epoch; mixed and all-wrong ones stay (formerly data.drop_solved=true). `uniform`:
    every eligible problem every epoch, every group trained on (plain GRPO; formerly
    data.drop_solved=false). `dynamic`: every eligible problem every epoch, but a step keeps
    only groups with some right and some wrong answers and samples the epoch's next problems
    until it has `prompts_per_step` such groups (DAPO dynamic sampling, Yu et al. 2025); the
    groups left out are recorded as not trained on."""
    drop_solved: bool = True
    """Kept for configs written before `sampling`: false is `sampling: uniform` (when sampling
    is left at history); true changes nothing."""
    dynamic_max_rounds: int = 3
    """`dynamic`: at most this many generation rounds per step (the first included); a step
    that has not filled its batch by then trains on the groups it kept."""
    return_after_epochs: int | None = None
    """`history`: how long a solved problem stays out: None for the rest of the run; k to sit
    out k epochs and then come back (to catch forgetting); 0 never drops anything."""

    @property
    def mode(self) -> str:
        """The sampling mode in effect (`drop_solved: false` turns history into uniform)."""
        return "uniform" if self.sampling == "history" and not self.drop_solved else self.sampling

    @property
    def drops_solved(self) -> bool:
        """Whether the epoch query leaves out problems solved in their latest epoch."""
        return self.mode == "history"

    def validate(self) -> None:
        for level in self.difficulties:
            if level not in DIFFICULTY_LEVELS:
                raise InputError(
                    f"data.difficulties: unknown value {level!r}; choose from easy, medium, hard"
                )
        if not self.difficulties and not self.include_unrated:
            raise InputError("data.difficulties is empty and data.include_unrated is false: no problem fits")
        if self.code_share is not None and not 0 <= self.code_share <= 1:
            raise InputError(f"data.code_share must be in [0, 1], got {self.code_share}")
        if self.epoch_size is not None and self.epoch_size < 1:
            raise InputError(f"data.epoch_size must be at least 1, got {self.epoch_size}")
        if self.prompts_per_step < 1:
            raise InputError("data.prompts_per_step must be at least 1")
        if self.return_after_epochs is not None and self.return_after_epochs < 0:
            raise InputError("data.return_after_epochs must not be negative")
        if self.dynamic_max_rounds < 1:
            raise InputError(f"data.dynamic_max_rounds must be at least 1, got {self.dynamic_max_rounds}")


def _train_engine() -> EngineConfig:
    # Colocated with the optimiser, vLLM gets less of the GPU than when it runs alone.
    return EngineConfig(batch_size=64, vllm=VLLMSettings(gpu_memory_utilization=0.4))


def _train_sampling() -> SamplingConfig:
    return SamplingConfig(n=8)


def check_engine(engine: EngineConfig) -> None:
    """What training needs of the `engine` section, beyond its own checks."""
    engine.validate()
    engine.refuse_foreign_settings(_train_engine())
    if engine.backend == "openai":
        raise InputError(
            "engine.backend=openai cannot train (the trainer needs the weights): use transformers or vllm"
        )


def check_sampling(sampling: SamplingConfig) -> None:
    sampling.validate()
    if sampling.n < 2:
        raise InputError(
            f"sampling.n (the group size) must be at least 2 (a group compares), got {sampling.n}"
        )


@dataclass(frozen=True, kw_only=True)
class RewardConfig:
    """What a response earns on top of its grade (grading itself is the `grader` section)."""

    format_reward: float = 0.0
    """Added to a response that has a gradable answer (a \\boxed{} answer, a fenced code block),
    as the format rewards of DeepSeek-R1 (2025); 0 rewards correctness only (SRPO)."""


@dataclass(frozen=True, kw_only=True)
class ObjectiveConfig:
    """The GRPO loss and its variants."""

    scale_by_std: bool = True
    """Divide group advantages by the group's reward std (GRPO, DeepSeekMath 2024). False keeps
    only the mean baseline (Dr. GRPO, Liu et al. 2025: the std favours too easy/hard groups)."""
    clip_eps_low: float = 0.2
    """Lower clip of the probability ratio, 1 - eps (PPO, Schulman et al. 2017)."""
    clip_eps_high: float = 0.28
    """Upper clip, 1 + eps; above clip_eps_low lets rare tokens grow (DAPO clip-higher, 2025)."""
    loss_aggregation: Literal["token", "sequence", "constant"] = "token"
    """`token`: mean over every response token of the batch (DAPO 2025); `sequence`: mean per
    response, then over responses (GRPO); `constant`: sum over tokens divided by responses x
    `constant_length` (Dr. GRPO 2025: no length bias)."""
    constant_length: int | None = None
    """The constant of `constant` aggregation; None uses sampling.max_new_tokens (Dr. GRPO)."""
    kl_coef: float = 0.0
    """Weight of the KL penalty to the initial model, k3 estimator (GRPO, DeepSeekMath 2024;
    Schulman's approximations); 0 (DAPO, Dr. GRPO, SRPO) skips the reference model."""
    overlong: Literal["keep", "mask", "zero_advantage"] = "keep"
    """Truncated responses (cut at max_new_tokens): `keep` trains on them as they are; `mask`
    leaves them out of the loss (DAPO overlong filtering); `zero_advantage` keeps their tokens
    in the normaliser but gives them no advantage."""
    updates_per_batch: int = 1
    """Passes over each rollout batch (GRPO's mu); more than 1 reuses samples off-policy,
    which the clipped ratio controls."""
    mini_batches: int = 1
    """Optimiser steps per pass: the batch is split into this many parts (PPO mini-batches)."""
    micro_batch_tokens: int = 16384
    """Padded tokens (prompt + response, sequences x longest) per forward/backward: micro-batches
    are filled with length-sorted sequences up to this budget (at least one sequence each), so
    long responses get small micro-batches and short ones large (a token budget, as verl's
    dynamic batch size). Memory only: gradients accumulate to the mini-batch."""
    micro_batch_size: int | None = None
    """Also at most this many sequences per forward/backward (None: only the token budget)."""
    importance_sampling: bool = True
    """Correct the update for the difference between the rollout engine's sampling distribution
    and the trainer's (other kernels and precision in vLLM; top-p): each token's surrogate is
    weighted by min(pi_old / pi_engine, importance_sampling_cap) (truncated importance
    sampling, TIS: Yao et al. 2025, "Your efficient RL framework secretly brings you off-policy
    RL training"; TRL's vllm_importance_sampling_correction, verl's rollout correction). Needs
    engine log-probs (transformers and vLLM give them); the sampling/* metrics are logged
    either way."""
    importance_sampling_cap: float = 2.0
    """C of TIS: a token's importance weight is at most this (TIS uses 2; TRL defaults to 3)."""
    importance_sampling_mask_below: float | None = None
    """Reject (weight 0) a whole response whose geometric-mean importance ratio
    exp(mean(log pi_old - log pi_engine)) is below this, e.g. 0.5 (verl's geometric rejection
    sampling; Liu, Li et al. 2025, "When speed kills stability"); None: no lower bound."""
    importance_sampling_mask_above: float | None = None
    """Reject a whole response whose geometric-mean ratio is above this, e.g. 2.0; None: none."""

    def validate(self) -> None:
        if not 0 <= self.clip_eps_low < 1 or self.clip_eps_high < 0:
            raise InputError("objective.clip_eps_low must be in [0, 1) and clip_eps_high >= 0")
        if self.kl_coef < 0:
            raise InputError("objective.kl_coef must not be negative")
        if self.updates_per_batch < 1 or self.mini_batches < 1:
            raise InputError("objective.updates_per_batch and mini_batches must be >= 1")
        if self.micro_batch_tokens < 1 or (self.micro_batch_size is not None and self.micro_batch_size < 1):
            raise InputError("objective.micro_batch_tokens and micro_batch_size must be >= 1")
        if self.constant_length is not None and self.constant_length < 1:
            raise InputError("objective.constant_length must be at least 1")
        if self.importance_sampling_cap < 1:
            raise InputError(
                f"objective.importance_sampling_cap must be at least 1, got {self.importance_sampling_cap}"
            )
        low, high = self.importance_sampling_mask_below, self.importance_sampling_mask_above
        if low is not None and not 0 < low < 1:
            raise InputError(f"objective.importance_sampling_mask_below must be in (0, 1), got {low}")
        if high is not None and high <= 1:
            raise InputError(f"objective.importance_sampling_mask_above must be above 1, got {high}")


@dataclass(frozen=True, kw_only=True)
class OptimConfig:
    """AdamW and its learning-rate schedule (the optimiser step runs in DeepSpeed)."""

    learning_rate: float = 1e-6
    """Peak learning rate (SRPO, DAPO and Dr. GRPO use 1e-6 for 7B-32B models)."""
    weight_decay: float = 0.01
    """AdamW decoupled weight decay (Loshchilov & Hutter 2019)."""
    betas: tuple[float, ...] = (0.9, 0.999)
    """Adam's moment decay rates."""
    eps: float = 1e-8
    """Adam's denominator epsilon."""
    warmup_steps: int = 0
    """Linear warm-up, in optimiser steps."""
    lr_schedule: Literal["constant", "cosine"] = "constant"
    """Learning rate after warm-up: constant (DAPO) or cosine decay to min_lr_ratio over all the
    run's optimiser steps (budget.max_steps x updates_per_batch x mini_batches)."""
    min_lr_ratio: float = 0.0
    """Cosine: the final learning rate as a share of the peak."""
    max_grad_norm: float = 1.0
    """Clip the gradient's global norm (0 disables)."""

    def validate(self) -> None:
        if self.learning_rate < 0 or self.warmup_steps < 0 or self.max_grad_norm < 0:
            raise InputError("optim.learning_rate, warmup_steps and max_grad_norm must not be negative")
        if len(self.betas) != 2:
            raise InputError(f"optim.betas must be two numbers, got {list(self.betas)}")


@dataclass(frozen=True, kw_only=True)
class DeepSpeedConfig:
    """DeepSpeed for the optimiser step (Rajbhandari et al. 2020, ZeRO)."""

    zero_stage: int = 2
    """ZeRO stage: 0 plain data parallel; 1 shards optimiser states; 2 also gradients; 3 also
    parameters (gathered for generation)."""
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    """Training precision: `auto` is bfloat16 on GPUs and float32 on CPU (fp16 needs loss
    scaling and is not offered)."""
    offload_optimizer: bool = False
    """Keep optimiser states in CPU memory and step them there (ZeRO-Offload, Ren et al. 2021);
    needs zero_stage 1 to 3."""
    cpu_adam: bool = True
    """With offload_optimizer: step with DeepSpeed's CPU Adam (a C++ op, compiled by DeepSpeed on
    first use and cached; several times faster than torch's AdamW on CPU). False keeps torch's
    AdamW (nothing to compile; sets DeepSpeed's zero_force_ds_cpu_optimizer to false)."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass (less memory, about a third more compute)."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Merged into the generated DeepSpeed config (e.g. {"zero_optimization": {...}})."""

    def validate(self) -> None:
        if self.zero_stage not in (0, 1, 2, 3):
            raise InputError(f"deepspeed.zero_stage must be 0, 1, 2 or 3, got {self.zero_stage}")
        if self.offload_optimizer and self.zero_stage == 0:
            raise InputError("deepspeed.offload_optimizer needs deepspeed.zero_stage 1, 2 or 3")


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    """SRPO's two stages: 1 trains on math only; 2 on math and code."""

    start_stage: int = 1
    """The stage a new run starts in (2 skips the math-only stage)."""
    switch_after_steps: int | None = None
    """Switch to stage 2 after this many steps (SRPO switches when math reasoning has grown)."""
    switch_after_rollouts: int | None = None
    """Switch to stage 2 once this many rollouts have been generated (steps differ between
    sampling modes for the same number of rollouts: this compares them at equal cost)."""
    plateau_window: int | None = None
    """Switch when the moving average (over this many steps) of the stage-1 accuracy (the share
    of responses graded correct, `accuracy/mean`: no format bonus) has stopped rising; None
    disables the plateau test."""
    plateau_slope: float = 0.001
    """The plateau test: the least-squares slope (accuracy per step) of the last
    `plateau_window` moving-average values is below this."""
    min_steps: int = 0
    """Steps in stage 1 before the plateau test may switch."""

    def validate(self) -> None:
        if self.start_stage not in (1, 2):
            raise InputError(f"stages.start_stage must be 1 or 2, got {self.start_stage}")
        if self.plateau_window is not None and self.plateau_window < 2:
            raise InputError("stages.plateau_window must be at least 2")
        if self.switch_after_rollouts is not None and self.switch_after_rollouts < 1:
            raise InputError("stages.switch_after_rollouts must be at least 1")

    def rollouts_reached(self, generated: int) -> bool:
        """Whether `switch_after_rollouts` says stage 1 is over after `generated` rollouts."""
        return self.switch_after_rollouts is not None and generated >= self.switch_after_rollouts


@dataclass(frozen=True, kw_only=True)
class BudgetConfig:
    """How long the run is."""

    max_steps: int = 1000
    """Rollout steps (one batch of data.prompts_per_step problems each) before the run ends."""
    max_epochs: int | None = None
    """Stop after this many epochs (None: only max_steps ends the run)."""
    max_rollouts: int | None = None
    """Stop before a step whose first batch would take the rollouts generated (trained on or
    not) past this many; dynamic sampling's later rounds stop at it too. Gives runs of
    different sampling modes the same sampling cost."""

    def validate(self) -> None:
        if self.max_steps < 1:
            raise InputError("budget.max_steps must be at least 1")
        if self.max_rollouts is not None and self.max_rollouts < 1:
            raise InputError("budget.max_rollouts must be at least 1")

    def allows(self, generated: int, more: int) -> bool:
        """Whether `more` rollouts may be generated after `generated` ones."""
        return self.max_rollouts is None or generated + more <= self.max_rollouts


@dataclass(frozen=True, kw_only=True)
class CheckpointConfig:
    """What is saved and when."""

    every_steps: int = 50
    """Save model, optimiser, scheduler, RNG and run position every this many steps (0: never)."""
    at_end: bool = True
    """Also save when the run ends."""
    keep_last: int = 2
    """Checkpoints kept on disk (older ones are deleted)."""
    save_model: bool = True
    """At the end, also write the policy as a Hugging Face model to OUTPUT/model."""


@dataclass(frozen=True, kw_only=True)
class LoggingConfig:
    """Where metrics go (always OUTPUT/metrics.jsonl) and what rollouts keep."""

    tensorboard: bool = False
    """Also write TensorBoard events to OUTPUT/tensorboard (needs the tensorboard package)."""
    wandb_project: str | None = None
    """Also log to this Weights & Biases project (needs wandb)."""
    store_responses: bool = False
    """Keep each response's text and extracted answer in `rollouts` (large for long runs)."""
    print_every: int = 1
    """Print a one-line summary every this many steps (rank 0)."""
    rollout_write_interval_s: float = 5.0
    """Rank 0 writes buffered rollouts to the catalog at most this often (one short transaction),
    and always at an epoch's end, a checkpoint, a stage switch and the end of the run; 0 writes
    after every step."""


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One training run."""

    seed: int = 0
    """Seeds sampling, shuffling of epochs and torch; the same seed and catalog give the same run."""
    output_dir: str = "srpo-runs/{run_id}"
    """Checkpoints, metrics and the final model; `{run_id}` is replaced by the run id."""
    data: DataConfig = field(default_factory=DataConfig)
    engine: EngineConfig = field(default_factory=_train_engine)
    """The rollout engine (the same section as srpo-curate difficulty's): `transformers` samples
    from the policy being trained (no weight copy; the tested CPU path), `vllm` is colocated in
    the training process and gets the new weights after every batch's optimiser steps."""
    sampling: SamplingConfig = field(default_factory=_train_sampling)
    """How responses are sampled: `n` is the GRPO group (responses per problem compared with each
    other; DeepSeekMath 2024); the log-probabilities of the loss use the same `temperature`;
    `top_p` 1.0 samples from the policy itself (below 1, objective.importance_sampling
    reweights towards it); responses cut at `max_new_tokens` count as truncated
    (objective.overlong)."""
    prompt: PromptTemplate = field(default_factory=PromptTemplate)
    """How a problem is asked (chat template, or a plain template such as R1-Zero's for base models)."""
    grader: GraderConfig = field(default_factory=GraderConfig)
    """Rewards from `srpo.verify.grading`: math equivalence in worker processes, code in the
    sandbox; `timeout_s` bounds a math comparison and each code test case (a timeout scores 0)."""
    reward: RewardConfig = field(default_factory=RewardConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    deepspeed: DeepSpeedConfig = field(default_factory=DeepSpeedConfig)
    stages: StageConfig = field(default_factory=StageConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    def validate(self) -> None:
        check_engine(self.engine)
        check_sampling(self.sampling)
        self.prompt.validate()
        self.grader.validate()
        for section in (self.data, self.objective, self.optim, self.deepspeed, self.stages, self.budget):
            section.validate()


# Sections that decide what the run's samples and losses mean; a resumed run must keep them.
IDENTITY_SECTIONS = ("seed", "data", "engine", "sampling", "prompt", "grader", "reward", "objective")

# Settings an earlier srpo called differently: moved when a stored run's config is read, refused
# with the new name in a config file or `--set`.
RENAMED = {
    "rollout.backend": "engine.backend",
    "rollout.group_size": "sampling.n",
    "rollout.prompts_per_step": "data.prompts_per_step",
    "rollout.temperature": "sampling.temperature",
    "rollout.top_p": "sampling.top_p",
    "rollout.max_new_tokens": "sampling.max_new_tokens",
    "rollout.stop": "sampling.stop",
    "rollout.generation_batch_size": "engine.batch_size",
    "rollout.prompt": "prompt",
    "rollout.vllm_gpu_memory_utilization": "engine.vllm.gpu_memory_utilization",
    "rollout.vllm_sleep_level": "engine.vllm.sleep_level",
    "rollout.vllm_max_model_len": "engine.vllm.max_model_len",
    "rollout.vllm_enforce_eager": "engine.vllm.enforce_eager",
    "rollout.vllm_extra_args": "engine.vllm.extra_args",
    "reward.workers": "grader.workers",
    "reward.timeout_s": "grader.timeout_s",
    "schedule.max_steps": "budget.max_steps",
    "schedule.max_epochs": "budget.max_epochs",
    "optim.schedule": "optim.lr_schedule",
}
