"""The policy update on a real tiny model in DeepSpeed: micro-batches by a token budget, a finite
update at extreme temperatures with a KL term, and the importance-sampling correction."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from srpo.train import distributed
from srpo.train.rollouts import Rollout
from srpo.train.update import micro_batches, policy_update
from tests.train.conftest import small_config

pytestmark = pytest.mark.slow


def test_micro_batches_fill_a_token_budget():
    lengths = [10, 50, 20, 20, 90, 30]
    found = micro_batches(lengths, range(6), max_tokens=60)
    assert found == [[0, 2, 3], [5], [1], [4]]  # 3 x 20, 1 x 30 (2 x 50 > 60), 50, 90 alone
    assert all(len(batch) * max(lengths[i] for i in batch) <= 60 for batch in found[:3])
    assert micro_batches(lengths, range(6), max_tokens=1000, max_size=4) == [[0, 2, 3, 5], [1, 4]]
    assert micro_batches(lengths, [4, 1], max_tokens=1) == [[1], [4]]


def rollouts(count: int, *, vocab: int, engine_logprobs=None) -> list[Rollout]:
    """Random responses of different lengths: at a low temperature their log-probs are huge."""
    generator = torch.Generator().manual_seed(7)
    found = []
    for index in range(count):
        length = 3 + 2 * index
        response = tuple(torch.randint(3, vocab, (length,), generator=generator).tolist())
        given = engine_logprobs(response) if engine_logprobs else None
        rollout = Rollout(problem_id=f"p{index // 2}", domain="math", sample_idx=index % 2, prompt_ids=(5, 9, 13),
                          response_ids=response, text="", finish_reason="stop", reward=float(index % 2),
                          status="wrong", extracted=None, engine_logprobs=given)  # fmt: skip
        found.append(rollout)
    return found


def engine_and_reference(model_dir, config):
    from transformers import AutoModelForCausalLM

    distributed.init_processes()
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    reference = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).requires_grad_(False)
    return distributed.build_engine(model, config), reference


def update(model_dir, tmp_path, batch, *overrides):
    config = small_config(tmp_path, "objective.mini_batches=1", *overrides)
    engine, reference = engine_and_reference(model_dir, config)
    advantages = torch.tensor([1.0, -1.0] * (len(batch) // 2))
    return policy_update(engine, batch, advantages, [1.0] * len(batch), config, step=1, pad_id=0,
                         reference=reference)  # fmt: skip


@pytest.mark.parametrize("temperature", [0.02, 0.6])
def test_low_temperatures_and_a_kl_term_give_a_finite_update(tiny_model, tmp_path, temperature):
    stats = update(tiny_model, tmp_path, rollouts(6, vocab=500), "objective.kl_coef=0.05",
                   f"sampling.temperature={temperature}", "objective.updates_per_batch=2")  # fmt: skip
    assert all(
        torch.isfinite(torch.tensor(v)) for v in (stats.loss, stats.kl, stats.grad_norm, stats.entropy)
    )
    assert stats.grad_norm > 0 and stats.kl > 0  # the second pass moved away from the reference


def test_a_token_budget_splits_micro_batches_without_changing_the_update(tiny_model, tmp_path):
    batch = rollouts(6, vocab=500)
    whole = update(tiny_model, tmp_path, batch, "objective.micro_batch_tokens=100000")
    split = update(tiny_model, tmp_path, batch, "objective.micro_batch_tokens=16")  # one sequence each
    assert split.loss == pytest.approx(whole.loss, rel=1e-5)
    assert split.grad_norm == pytest.approx(whole.grad_norm, rel=1e-4)


def test_importance_weights_correct_for_the_engines_log_probs(tiny_model, tmp_path):
    # An engine that gave every token 0.5 nats less than the trainer: weight e^0.5 everywhere,
    # except where the cap (1.5) bounds it.
    from transformers import AutoModelForCausalLM

    from srpo.train.tokens import pack, token_logprobs

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)

    def shifted(response):
        packed = pack([(5, 9, 13)], [response], pad_id=0)
        with torch.no_grad():
            logprobs, _ = token_logprobs(model, packed, temperature=1.0)
        return tuple((logprobs[0][packed.response_mask[0] > 0] - 0.5).tolist())

    batch = rollouts(4, vocab=500, engine_logprobs=shifted)
    stats = update(tiny_model, tmp_path, batch, "objective.importance_sampling_cap=1.5")
    assert stats.logp_diff_mean == pytest.approx(0.5, abs=1e-4) and stats.logp_diff_max == pytest.approx(
        0.5, abs=1e-4
    )
    assert stats.is_capped_frac == 1.0 and stats.is_ratio_mean == pytest.approx(1.5, rel=1e-4)
    assert stats.is_masked_frac == 0.0
    uncapped = update(tiny_model, tmp_path, batch, "objective.importance_sampling_cap=2")
    assert (
        uncapped.is_ratio_mean == pytest.approx(2.718281828**0.5, rel=1e-3) and uncapped.is_capped_frac == 0
    )
    # The weights scale the surrogate: its loss and gradient grow by e^0.5 against no correction.
    off = update(tiny_model, tmp_path, batch, "objective.importance_sampling=false")
    assert uncapped.grad_norm == pytest.approx(off.grad_norm * 2.718281828**0.5, rel=1e-3)
    rejected = update(tiny_model, tmp_path, batch, "objective.importance_sampling_mask_above=1.5")
    assert rejected.is_masked_frac == 1.0 and rejected.grad_norm == 0
    none = update(tiny_model, tmp_path, rollouts(4, vocab=500))
    assert none.logp_diff_mean is None and none.as_metrics()["sampling/is_ratio/mean"] is None


def test_a_toy_run_with_kl_at_temperature_0_6_is_finite_and_on_policy(taught_model, tmp_path):
    """The transformers engine samples from the live policy: its log-probs are the trainer's."""
    from srpo.train.trainer import train
    from tests.train.conftest import make_catalog, read_jsonl

    config = small_config(tmp_path / "out", "budget.max_steps=3", "objective.kl_coef=0.05",
                          "sampling.temperature=0.6", "checkpoint.every_steps=0", "checkpoint.save_model=false")  # fmt: skip
    report = train(make_catalog(tmp_path), str(taught_model), replace(config), run_id="toy")
    lines = read_jsonl(report.output_dir / "metrics.jsonl")
    assert [line["step"] for line in lines] == [1, 2, 3]
    for line in lines:
        for key in ("loss", "kl", "grad_norm", "entropy"):
            assert torch.isfinite(torch.tensor(line[key])), (line["step"], key)
        assert line["sampling/logp_diff/mean"] < 1e-4 and line["sampling/logp_diff/max"] < 1e-3
        assert line["sampling/is_ratio/mean"] == pytest.approx(1.0, abs=1e-4)
        assert line["sampling/is_capped_frac"] == 0 and line["sampling/is_masked_frac"] == 0
    assert any(line["kl"] > 0 for line in lines) and any(line["grad_norm"] > 0 for line in lines)
