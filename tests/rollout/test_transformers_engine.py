"""The transformers engine on CPU with tiny models: shapes, finish reasons, stops, seeds, weights."""

from __future__ import annotations

import shutil

import pytest

from srpo.errors import EngineError, InputError
from srpo.rollout import SamplingConfig, create_engine, engine_config
from srpo.rollout.prompts import PromptTemplate, build_prompt
from srpo.rollout.transformers_engine import TransformersEngine, TransformersEngineConfig
from tests.tiny_models import COIN_QUESTION, SEVEN, SEVEN_QUESTIONS


def _engine(model_dir, **options) -> TransformersEngine:
    return create_engine(engine_config("transformers", model=str(model_dir), device="cpu", **options))


@pytest.fixture(scope="module")
def random_engine(tiny_model):
    with _engine(tiny_model) as engine:
        yield engine


@pytest.fixture(scope="module")
def taught_engine(taught_model):
    with _engine(taught_model) as engine:
        yield engine


def _prompts():
    return [
        build_prompt(question="What is 3 + 4?", domain="math"),
        build_prompt(question="Add 1 and 2.", domain="math", template=PromptTemplate(kind="plain")),
        build_prompt(question="Print hello.", domain="code", tests={"type": "stdio", "cases": []}),
    ]


def test_n_samples_per_prompt_with_counts_and_finish_reasons(random_engine):
    completions = random_engine.generate(_prompts(), SamplingConfig(n=3, max_new_tokens=6, seed=1))
    assert len(completions) == 3
    tokenizer = random_engine.tokenizer
    eos = tokenizer.eos_token_id
    for completion in completions:
        assert len(completion.samples) == 3
        # The tiny tokenizer adds no BOS, so chat and plain prompts both tokenize to the text's ids.
        assert (
            list(completion.prompt_token_ids)
            == tokenizer(completion.prompt_text, add_special_tokens=False)["input_ids"]
        )
        for sample in completion.samples:
            assert sample.token_count == len(sample.token_ids) <= 6
            if sample.finish_reason == "length":
                assert sample.token_count == 6 and eos not in sample.token_ids
            else:
                assert sample.token_ids[-1] == eos and eos not in sample.token_ids[:-1]
            assert sample.text == tokenizer.decode(
                [t for t in sample.token_ids if t != eos], skip_special_tokens=True
            )
    # A random model rarely ends a turn within 6 tokens: most samples run into the limit.
    assert sum(s.finish_reason == "length" for c in completions for s in c.samples) >= 5


def test_chat_prompts_use_the_chat_template_and_plain_prompts_do_not(random_engine):
    chat, plain, _ = random_engine.generate(_prompts(), SamplingConfig(n=1, max_new_tokens=1))
    assert chat.prompt_text.startswith("<|im_start|>user\nWhat is 3 + 4?")
    assert chat.prompt_text.endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert (
        plain.prompt_text
        == "Add 1 and 2.\n\nPlease reason step by step, and put your final answer within \\boxed{}.\n"
    )


def test_same_seed_same_samples_other_seed_other_samples(random_engine):
    prompts = _prompts()[:2]
    first = random_engine.generate(prompts, SamplingConfig(n=4, max_new_tokens=8, seed=7))
    again = random_engine.generate(prompts, SamplingConfig(n=4, max_new_tokens=8, seed=7))
    other = random_engine.generate(prompts, SamplingConfig(n=4, max_new_tokens=8, seed=8))
    assert first == again
    assert first != other
    texts = {s.text for c in first for s in c.samples}
    assert len(texts) > 1  # the n samples are sampled, not copies


def test_greedy_gives_n_identical_samples_regardless_of_batching(taught_model):
    prompts = [build_prompt(question=q, domain="math") for q in SEVEN_QUESTIONS[:3]]
    greedy = SamplingConfig(n=2, temperature=0, max_new_tokens=16)
    with _engine(taught_model, batch_size=2) as small, _engine(taught_model, batch_size=64) as large:
        one, other = small.generate(prompts, greedy), large.generate(prompts, greedy)
    assert [[s.text for s in c.samples] for c in one] == [[SEVEN, SEVEN]] * 3
    assert [[s.token_ids for s in c.samples] for c in one] == [
        [s.token_ids for s in c.samples] for c in other
    ]


def test_end_of_turn_is_a_stop_and_is_counted(taught_engine):
    [completion] = taught_engine.generate(
        [build_prompt(question="What is 3 + 4?", domain="math")], SamplingConfig(n=2, max_new_tokens=30)
    )
    for sample in completion.samples:
        assert sample.text == SEVEN and sample.finish_reason == "stop"
        assert sample.token_ids[-1] == taught_engine.tokenizer.eos_token_id
        assert sample.token_count == len(taught_engine.tokenizer(SEVEN)["input_ids"]) + 1


def test_stop_strings_cut_the_text_and_count_tokens_through_the_stop(taught_engine):
    prompt = build_prompt(question="What is 3 + 4?", domain="math")
    [completion] = taught_engine.generate(
        [prompt], SamplingConfig(n=2, max_new_tokens=30, stop=("boxed", "never"))
    )
    tokenizer = taught_engine.tokenizer
    for sample in completion.samples:
        assert sample.text == "The answer is \\" and sample.finish_reason == "stop"
        assert tokenizer.decode(list(sample.token_ids)).endswith("boxed")
        assert "boxed" not in tokenizer.decode(list(sample.token_ids[:-1]))  # the fewest tokens that hold it
        assert tokenizer.eos_token_id not in sample.token_ids


def test_coin_question_is_sampled_both_ways(taught_engine):
    [completion] = taught_engine.generate(
        [build_prompt(question=COIN_QUESTION, domain="math")], SamplingConfig(n=16, max_new_tokens=30, seed=0)
    )
    answers = {sample.text for sample in completion.samples}
    assert answers == {SEVEN, "The answer is \\boxed{8}."}


def test_update_weights_makes_a_random_model_answer_like_the_taught_one(tiny_model, taught_model, tmp_path):
    from safetensors.torch import load_file

    copy = tmp_path / "random"
    shutil.copytree(tiny_model, copy)  # same tokenizer: both come from the same corpus and vocab size
    prompt = [build_prompt(question="What is 3 + 4?", domain="math")]
    greedy = SamplingConfig(n=1, temperature=0, max_new_tokens=16)
    with _engine(copy) as engine:
        assert engine.generate(prompt, greedy)[0].samples[0].text != SEVEN
        engine.update_weights(load_file(taught_model / "model.safetensors").items())
        assert engine.generate(prompt, greedy)[0].samples[0].text == SEVEN
        with pytest.raises(EngineError, match="no parameter 'nope'"):
            engine.update_weights([("nope", None)])


def test_from_model_wraps_the_model_in_memory(taught_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(taught_model)
    engine = TransformersEngine.from_model(model, AutoTokenizer.from_pretrained(taught_model), batch_size=4)
    [completion] = engine.generate(
        [build_prompt(question="What is 1 + 6?", domain="math")],
        SamplingConfig(n=2, temperature=0, max_new_tokens=16),
    )
    assert engine.model is model and [s.text for s in completion.samples] == [SEVEN, SEVEN]


def test_chat_prompt_without_a_chat_template_is_a_clear_error(tiny_model, tmp_path):
    copy = tmp_path / "base"
    shutil.copytree(tiny_model, copy)
    (copy / "chat_template.jinja").unlink()
    with _engine(copy) as engine, pytest.raises(EngineError, match=r"prompt\.kind=plain"):
        engine.generate(_prompts()[:1], SamplingConfig(n=1, max_new_tokens=2))


def test_bad_settings_and_paths_are_user_errors(tmp_path):
    with pytest.raises(InputError, match=r"sampling\.top_p"):
        SamplingConfig(top_p=0).validate()
    with pytest.raises(InputError, match=r"engine\.batch_size"):
        TransformersEngineConfig(model="m", batch_size=0).validate()
    with pytest.raises(EngineError, match="cannot load model"):
        _engine(tmp_path / "missing")


def _full_logprobs(engine, completion, sample, *, temperature, top_p=1.0):
    """The sampled tokens' log-probs under the processed distribution, from one plain forward."""
    import torch

    ids = [*completion.prompt_token_ids, *sample.token_ids]
    with torch.no_grad():
        logits = engine.model(input_ids=torch.tensor([ids])).logits[0].float()
    start = len(completion.prompt_token_ids) - 1
    found = []
    for position, token in enumerate(sample.token_ids):
        scores = logits[start + position] / (temperature if temperature > 0 else 1.0)
        if top_p < 1.0:  # nucleus: keep the most probable tokens whose mass reaches top_p
            probs = torch.softmax(scores, -1)
            ordered, order = probs.sort(descending=True)
            drop = (ordered.cumsum(-1) - ordered) >= top_p
            scores = scores.clone()
            scores[order[drop]] = -float("inf")
        found.append(torch.log_softmax(scores, -1)[token].item())
    return found


@pytest.mark.parametrize(("temperature", "top_p"), [(1.0, 1.0), (0.6, 1.0), (0.7, 0.8), (0.0, 1.0)])
def test_samples_carry_the_log_probs_of_the_distribution_they_were_drawn_from(
    random_engine, temperature, top_p
):
    sampling = SamplingConfig(n=3, temperature=temperature, top_p=top_p, max_new_tokens=12, seed=5)
    completions = random_engine.generate(_prompts()[:2], sampling)
    for completion in completions:
        for sample in completion.samples:
            assert sample.logprobs is not None and len(sample.logprobs) == len(sample.token_ids)
            expected = _full_logprobs(random_engine, completion, sample, temperature=temperature, top_p=top_p)
            assert list(sample.logprobs) == pytest.approx(expected, abs=2e-4)
            assert all(value <= 0 for value in sample.logprobs)


def test_log_probs_follow_the_cut_at_a_stop_string(taught_engine):
    sampling = SamplingConfig(n=2, max_new_tokens=24, stop=("boxed",), seed=1)
    [completion] = taught_engine.generate(
        [build_prompt(question=SEVEN_QUESTIONS[0], domain="math")], sampling
    )
    for sample in completion.samples:
        assert sample.finish_reason == "stop" and len(sample.logprobs) == len(sample.token_ids)
