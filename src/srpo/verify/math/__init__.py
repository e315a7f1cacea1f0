"""Math grading: the final answer of a response (`extract`, `boxed`), and whether it equals the
gold (`equivalence`: `normalise`, `structure`, `numbers`, then `symbolic` with sympy); gold
checks (`golds`). `worker` and `tasks` are what the grader's worker processes load and run.

Importing this package imports no sympy: only `symbolic` (and the workers) do.
"""
