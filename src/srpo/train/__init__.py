"""Training: rollout engines, GRPO objective, DeepSpeed loop, history resampling.

The only package that imports torch, transformers, deepspeed or vllm, always inside functions.
"""
