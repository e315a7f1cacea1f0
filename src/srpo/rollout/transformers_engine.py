"""The `transformers` rollout engine: batched `model.generate` on CPU or one GPU.

The tested path on machines without a GPU, and the trainer's engine on CPU, where it can wrap
the very model being trained (`TransformersEngine.from_model`) so no weight sync is needed.
Sampling uses only the settings in `SamplingConfig` (temperature, top-p; no top-k, no repetition
penalty from the model's generation config), so the samples follow the policy's own
distribution as GRPO assumes and as the vLLM engine samples it. Each sample carries the
log-prob of each of its tokens under that processed distribution (`Sample.logprobs`): a last
logits processor keeps one step's processed scores and picks the sampled token's log-prob when
the next step shows which token it was, so nothing of vocabulary size is kept per step.

Covers: loading, prompt rendering, batching prompts x samples, finish reasons, seeds.
Does not cover: scheduling across GPUs (use the vLLM engine for throughput).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.errors import EngineError, InputError
from srpo.rollout.engine import EngineBase
from srpo.rollout.rendering import eos_ids, render_prompt
from srpo.rollout.sampling import Completion, FinishReason, Sample, SamplingConfig, cut_at_stop

if TYPE_CHECKING:
    from srpo.rollout.prompts import Prompt


@dataclass(frozen=True, kw_only=True)
class TransformersEngineConfig:
    """Where the model comes from and how generation is batched."""

    model: str
    """A local folder or hub id that `AutoModelForCausalLM.from_pretrained` loads."""
    device: str = "auto"
    """`cpu`, `cuda`, `cuda:1`, ...; `auto` takes the GPU when there is one."""
    dtype: str = "auto"
    """`float32`, `bfloat16` or `float16`; `auto` is bfloat16 on a GPU, float32 on CPU."""
    batch_size: int = 16
    """Sequences (prompts x samples) per `generate` call; bounds memory for padded batches."""
    trust_remote_code: bool = False
    """Allow model code from the checkpoint (only for models you trust)."""

    def validate(self) -> None:
        if self.batch_size < 1:
            raise InputError(f"engine.batch_size must be at least 1, got {self.batch_size}")
        if self.dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise InputError(f"engine.dtype must be auto, float32, bfloat16 or float16, got {self.dtype!r}")


class TransformersEngine(EngineBase):
    """Rollouts with `transformers.generate`."""

    name = "transformers"

    def __init__(self, config: TransformersEngineConfig, *, model: Any = None, tokenizer: Any = None) -> None:
        config.validate()
        self.config = config
        if model is None or tokenizer is None:
            model, tokenizer = _load(config)
        self.model = model
        self.tokenizer = tokenizer
        self._eos = eos_ids(getattr(model, "generation_config", None), tokenizer)

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, *, batch_size: int = 16) -> TransformersEngine:
        """Wrap a model already in memory (the trainer's policy): generation sees its weights."""
        name = getattr(getattr(model, "config", None), "_name_or_path", "") or "in-memory"
        return cls(
            TransformersEngineConfig(model=name, batch_size=batch_size), model=model, tokenizer=tokenizer
        )

    def generate(self, prompts: Sequence[Prompt], sampling: SamplingConfig) -> list[Completion]:
        import torch

        sampling.validate()
        rendered = [render_prompt(self.tokenizer, prompt) for prompt in prompts]
        # Prompts of similar length share a call, so little of each batch is padding.
        order = sorted(range(len(rendered)), key=lambda index: len(rendered[index][1]))
        per_call = max(1, self.config.batch_size // sampling.n)
        completions: list[Completion | None] = [None] * len(rendered)
        devices = [self.model.device] if self.model.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            if sampling.seed is not None:
                torch.manual_seed(sampling.seed)
            for start in range(0, len(order), per_call):
                chunk = order[start : start + per_call]
                done = self._generate_chunk([rendered[index] for index in chunk], sampling)
                for index, completion in zip(chunk, done, strict=True):
                    completions[index] = completion
        return [completion for completion in completions if completion is not None]

    def update_weights(self, named_tensors: Iterable[tuple[str, Any]]) -> None:
        """Copy (name, tensor) pairs into the model's parameters and buffers, by name."""
        import torch

        own = dict(self.model.named_parameters()) | dict(self.model.named_buffers())
        with torch.no_grad():
            for name, tensor in named_tensors:
                if name not in own:
                    raise EngineError(f"update_weights: the model has no parameter {name!r}")
                own[name].copy_(tensor.to(own[name].device, own[name].dtype))

    def _generate_chunk(
        self, rendered: list[tuple[str, list[int]]], sampling: SamplingConfig
    ) -> list[Completion]:
        input_ids, attention = self._left_padded([ids for _, ids in rendered])
        # Greedy decoding gives one answer per prompt: generate it once and repeat it n times.
        per_prompt = 1 if sampling.temperature == 0 else sampling.n
        recorder = SampledLogprobs(prompt_width=input_ids.shape[1])
        output = self.model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            generation_config=self._generation_config(sampling, per_prompt),
            logits_processor=_processors(sampling, recorder),
            tokenizer=self.tokenizer,  # needed by stop strings
        )
        responses = output[:, input_ids.shape[1] :].tolist()
        logprobs = recorder.finish(output).tolist()
        completions = []
        for index, (text, ids) in enumerate(rendered):
            rows = range(index * per_prompt, (index + 1) * per_prompt)
            found = [self._sample(responses[row], logprobs[row], sampling) for row in rows]
            samples = tuple(found * (sampling.n // per_prompt))
            completions.append(Completion(prompt_text=text, samples=samples, prompt_token_ids=tuple(ids)))
        return completions

    def _left_padded(self, sequences: list[list[int]]):
        import torch

        width = max(len(ids) for ids in sequences)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self._eos[0]
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in sequences])
        attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in sequences])
        return input_ids.to(self.model.device), attention.to(self.model.device)

    def _generation_config(self, sampling: SamplingConfig, per_prompt: int):
        from transformers import GenerationConfig

        greedy = sampling.temperature == 0
        # A fresh config: the checkpoint's own defaults (top_k, repetition penalty) would bend
        # the sampling distribution away from the policy's. Temperature and top-p are given as
        # processors instead (`_processors`): generate appends its own after any given ones,
        # and the log-prob recorder must see the scores last.
        return GenerationConfig(
            do_sample=not greedy,
            temperature=None if greedy else 1.0,
            top_p=None if greedy else 1.0,
            top_k=None,
            max_new_tokens=sampling.max_new_tokens,
            num_return_sequences=per_prompt,
            stop_strings=list(sampling.stop) or None,
            eos_token_id=self._eos,
            pad_token_id=self._eos[0],  # finished rows are padded with an end token: cut there
            bos_token_id=self.tokenizer.bos_token_id,
        )

    def _sample(self, row: list[int], logprobs: list[float], sampling: SamplingConfig) -> Sample:
        end = next((i for i, token in enumerate(row) if token in self._eos), None)
        generated = row if end is None else row[:end]
        text, stopped = cut_at_stop(self._decode(generated), sampling.stop)
        if stopped:
            # Generation ended on the stop string: the end token after it is padding.
            ids = generated[: self._tokens_through_stop(generated, sampling.stop)]
            reason: FinishReason = "stop"
        elif end is not None:
            ids, reason = row[: end + 1], "stop"
        else:
            ids, reason = row, "length"
        return Sample(
            text=text,
            token_count=len(ids),
            finish_reason=reason,
            token_ids=tuple(ids),
            logprobs=tuple(logprobs[: len(ids)]),
        )

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _tokens_through_stop(self, ids: list[int], stops: Sequence[str]) -> int:
        """The fewest leading tokens whose text holds a stop string (binary search: containing a
        stop string only ever becomes true as tokens are added)."""
        low, high = 1, len(ids)
        while low < high:
            middle = (low + high) // 2
            if cut_at_stop(self._decode(ids[:middle]), stops)[1]:
                high = middle
            else:
                low = middle + 1
        return high

    def close(self) -> None:
        self.model = None
        _free_cuda_cache()


class SampledLogprobs:
    """A logits processor, last in the list: the log-prob of every sampled token under the
    processed scores it was drawn from. Step t's scores are kept (by reference) until step t + 1
    shows the token sampled from them; `finish` picks the last one from the output."""

    def __init__(self, *, prompt_width: int) -> None:
        self.prompt_width = prompt_width
        self.picked: list[Any] = []
        """One [rows] tensor per generated position."""
        self._scores: Any = None
        self._normalisers: Any = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self._scores is not None and len(self.picked) < input_ids.shape[1] - self.prompt_width:
            self._pick(input_ids[:, -1])
        self._scores, self._normalisers = scores, scores.logsumexp(dim=-1)
        return scores

    def _pick(self, tokens: Any) -> None:
        chosen = self._scores.gather(1, tokens.unsqueeze(1).to(self._scores.device)).squeeze(1)
        self.picked.append((chosen - self._normalisers).float())

    def finish(self, sequences: Any) -> Any:
        """[rows, generated] log-probs of the generated part of `sequences`."""
        import torch

        generated = sequences.shape[1] - self.prompt_width
        if len(self.picked) < generated and self._scores is not None:
            self._pick(sequences[:, self.prompt_width + len(self.picked)])
        self._scores = self._normalisers = None
        if generated <= 0:
            return torch.zeros((sequences.shape[0], 0))
        return torch.stack(self.picked[:generated], dim=1)


def _processors(sampling: SamplingConfig, recorder: SampledLogprobs) -> Any:
    """Temperature and top-p as transformers applies them (in this order), then the recorder."""
    from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

    processors = LogitsProcessorList()
    if sampling.temperature > 0:
        if sampling.temperature != 1.0:
            processors.append(TemperatureLogitsWarper(sampling.temperature))
        if sampling.top_p < 1.0:
            processors.append(TopPLogitsWarper(sampling.top_p))
    processors.append(recorder)
    return processors


def _load(config: TransformersEngineConfig) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = config.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype_name = config.dtype
    if dtype_name == "auto":
        dtype_name = "bfloat16" if device.startswith("cuda") else "float32"
    try:
        tokenizer = AutoTokenizer.from_pretrained(config.model, trust_remote_code=config.trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(
            config.model, dtype=getattr(torch, dtype_name), trust_remote_code=config.trust_remote_code
        )
    except (OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise EngineError(f"cannot load model {config.model!r} (--model, engine.model): {first}") from error
    model.to(device)
    model.eval()
    return model, tokenizer


def _free_cuda_cache() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
