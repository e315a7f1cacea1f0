"""The tiny-model helper: offline, loadable by transformers, head size vLLM's CPU kernels accept."""

from __future__ import annotations

import json

import pytest

from srpo.testing.tiny_model import CHAT_TEMPLATE, TinyModelConfig, build_tiny_model


def test_tiny_model_loads_with_a_chat_template(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["model_type"] == "qwen2" and config["head_dim"] == 64
    assert model.config.vocab_size == len(tokenizer)
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is \\frac{1}{2} + ü?"}], tokenize=False, add_generation_prompt=True
    )
    assert text == "<|im_start|>user\nWhat is \\frac{1}{2} + ü?<|im_end|>\n<|im_start|>assistant\n"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text  # byte-level BPE: any text round-trips
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.chat_template == CHAT_TEMPLATE


def test_same_config_builds_the_same_weights(tmp_path):
    from safetensors.torch import load_file

    small = TinyModelConfig(num_hidden_layers=1, seed=3)
    first = load_file(build_tiny_model(tmp_path / "a", small) / "model.safetensors")
    second = load_file(build_tiny_model(tmp_path / "b", small) / "model.safetensors")
    other = load_file(
        build_tiny_model(tmp_path / "c", TinyModelConfig(num_hidden_layers=1, seed=4)) / "model.safetensors"
    )
    assert first.keys() == second.keys()
    assert all((first[name] == second[name]).all() for name in first)
    assert any(not (first[name] == other[name]).all() for name in first)


@pytest.mark.slow
def test_teaching_fits_the_completions(taught_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tests.tiny_models import SEVEN, chat_text

    tokenizer = AutoTokenizer.from_pretrained(taught_model)
    model = AutoModelForCausalLM.from_pretrained(taught_model)
    prompt = chat_text(taught_model, "What is 3 + 4?")
    inputs = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
    output = model.generate(**inputs, do_sample=False, max_new_tokens=20)
    assert tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True) == SEVEN
