"""Helpers for tests, benchmarks and demos, shipped with srpo (as `polars.testing` is) so that a
user's own tests can build the same things: a tiny model and tokenizer made on the spot
(`tiny_model`), a toy task it can be taught (`toy_task`), perturbed copies of problems for
duplicate tests (`perturb`), and scoring the cleaning rules against hand labels (`label_eval`).

No other srpo package imports this one (an import contract checks it).
"""
