"""Verification: answer extraction, math equivalence, code grading, the reward API.

Public API (import from the modules; importing this package imports nothing heavy):
- `srpo.verify.grading`: `GradeItem`, `Grade`, `Grader` (warm workers across batches),
  `grade_batch(items, *, workers, timeout_s)`, `grade(item)` — the trainer's reward function and
  what `srpo-curate grade` runs;
- `srpo.verify.math.extract.extract_answer`, `srpo.verify.math.equivalence.compare`: the two halves of a
  math grade, usable on their own (no time limit: run untrusted input through `Grader`);
- `srpo.verify.math.golds.check_gold`, `srpo.verify.verify_catalog.verify_catalog`: gold-answer checks
  behind `srpo-curate verify`.
"""
