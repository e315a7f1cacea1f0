"""Grading for the peer trainers: what a trainer's ground truth means, and a warm grader per
process that many threads may call at once.

A trainer hands over a response and whatever its dataset carried: TRL the export's columns
(`answer`, `tests`, `domain`, `problem_id`), verl `reward_model.ground_truth` and `extra_info`,
OpenRLHF one `label`. `target_from_label` reads all of them the same way:

- a mapping, or a JSON object string, with srpo's keys (`problem_id`, `domain`, `answer`,
  `tests`): what it says (OpenRLHF's `srpo_label` column);
- a JSON object string (or a mapping) in srpo's code test format (`{"type": "stdio" | "call" |
  "assert", ...}`): a code problem's tests;
- anything else: a math gold answer (`27.0` is read as `27`, as `srpo-curate grade` does).

A target without its gold (only a `problem_id`) takes it from the catalog (`GoldLookup`), as
`srpo-curate grade` does for lines with a `problem_id`, so both grade the same pair the same way.

`SharedGrader` wraps one `srpo.verify.grading.Grader`: math items go through it one batch at a
time (its worker pool starts on the first item that needs algebra and stays warm), code items
straight to the process-wide sandbox pool, so many code items run at once and a slow program
holds only its own sandbox, for at most its own time limit.

Covers: reading ground truths, the per-process grader. Does not cover: the grading rules
(`srpo.verify`), recording (`recorder`).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srpo.verify.config import GraderConfig
from srpo.verify.grading import Grade, GradeItem, Grader

TEST_TYPES = ("stdio", "call", "assert")
LABEL_KEYS = ("problem_id", "domain", "answer", "tests")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What one response is graded against."""

    domain: str
    """math or code."""
    answer: str | None = None
    """Math: the gold answer."""
    tests: Any = None
    """Code: the tests in srpo's format (JSON text or a mapping)."""
    problem_id: str | None = None
    """The catalog problem, when known: for looking the gold up and for the record."""

    @property
    def complete(self) -> bool:
        return self.answer is not None if self.domain == "math" else self.tests is not None


def answer_text(value: Any) -> str:
    """A gold answer as text, the way `srpo-curate grade` reads one (`27.0` -> `27`)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_object(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return None
        return decoded if isinstance(decoded, Mapping) else None
    return None


def target_from_label(label: Any, *, domain: str | None = None, problem_id: str | None = None) -> Target:
    """Read a trainer's ground truth (see the module docstring); `domain` and `problem_id`, when
    the trainer carries them separately, win over what the label implies."""
    obj = _as_object(label)
    if obj is not None and obj.get("type") in TEST_TYPES:
        return Target(domain=domain or "code", tests=label, problem_id=problem_id)
    if obj is not None and any(key in obj for key in LABEL_KEYS):
        tests = obj.get("tests")
        kind = domain or obj.get("domain") or ("code" if tests is not None else "math")
        answer = obj.get("answer")
        return Target(
            domain=str(kind),
            answer=answer_text(answer) if answer is not None else None,
            tests=tests,
            problem_id=problem_id or obj.get("problem_id"),
        )
    if domain == "code":
        return Target(domain="code", tests=label, problem_id=problem_id)
    answer = answer_text(label) if label is not None and label != "" else None
    return Target(domain=domain or "math", answer=answer, problem_id=problem_id)


class GoldLookup:
    """Golds of catalog problems by `problem_id` (read once per problem, then cached), the same
    rows `srpo-curate grade` reads (`srpo.catalog.verification.golds_for`)."""

    def __init__(self, catalog: str | Path | None = None) -> None:
        self.catalog = catalog
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def complete(self, targets: Sequence[Target]) -> list[Target]:
        """Each target with its gold filled in from the catalog where it had none."""
        from dataclasses import replace

        missing = [t.problem_id for t in targets if not t.complete and t.problem_id is not None]
        self._fetch([pid for pid in missing if pid not in self._cache])
        done = []
        for target in targets:
            gold = self._cache.get(target.problem_id) if not target.complete and target.problem_id else None
            if gold is not None:  # the catalog's domain wins: it is the problem's own
                target = replace(target, domain=gold.domain, answer=gold.answer, tests=gold.tests)
            done.append(target)
        return done

    def _fetch(self, problem_ids: list[str]) -> None:
        if not problem_ids:
            return
        from srpo.catalog import Catalog
        from srpo.catalog.verification import golds_for

        with self._lock, Catalog.open(self.catalog).reader() as con:
            self._cache.update(golds_for(con, problem_ids))


def grade_item(response: str, target: Target) -> GradeItem | None:
    """The grade item for a response and its target; None when the target has no gold (the
    caller grades it `error`, as `srpo-curate grade` does a line it cannot resolve)."""
    if target.domain not in ("math", "code") or not target.complete:
        return None
    if target.domain == "code":
        return GradeItem(response=response, domain="code", tests=target.tests)
    return GradeItem(response=response, answer=target.answer, domain="math")


def missing_gold(target: Target) -> Grade:
    """The grade of a response whose target has no usable gold."""
    if target.domain not in ("math", "code"):
        why = f"domain {target.domain!r} is neither math nor code"
    elif target.problem_id:
        why = f"problem {target.problem_id!r} has no gold here and none in the catalog"
    else:
        why = "no gold answer (math) or tests (code) in the ground truth"
    return Grade(reward=0.0, status="error", extracted=None, detail=why)


class SharedGrader:
    """One warm `Grader` that threads may share: math items are graded one batch at a time (the
    comparison pool is the grader's own), code items concurrently in the sandbox pool."""

    def __init__(self, config: GraderConfig | None = None, *, chunk_size: int = 16) -> None:
        self.config = config or GraderConfig()
        self.config.validate()
        self._grader = Grader(self.config, chunk_size=chunk_size)
        self._math_lock = threading.Lock()

    def grade(self, items: Sequence[GradeItem]) -> list[Grade]:
        """One Grade per item, in order (never raises for a bad item)."""
        math_indices = [i for i, item in enumerate(items) if item.domain != "code"]
        code_indices = [i for i, item in enumerate(items) if item.domain == "code"]
        grades: list[Grade | None] = [None] * len(items)
        if math_indices:
            with self._math_lock:
                found = self._grader.grade([items[i] for i in math_indices])
            for index, grade in zip(math_indices, found, strict=True):
                grades[index] = grade
        if code_indices:
            # Code never reaches the grader's comparison pool, so no lock: each item leases its
            # own sandbox from the process-wide pool.
            found = self._grader.grade([items[i] for i in code_indices])
            for index, grade in zip(code_indices, found, strict=True):
                grades[index] = grade
        return [g for g in grades if g is not None]

    def warm_up(self) -> None:
        """Start the comparison workers and the sandboxes now, and run something in each (a
        worker's first comparison pays for the LaTeX parser, a sandbox's first program for its
        interpreter), so the first requests do not wait for that."""
        workers = self.config.workers
        tests = {"type": "stdio", "cases": [{"input": "", "output": "1\n"}]}
        # A full chunk per worker, so every worker gets one.
        algebra = [GradeItem(response="\\boxed{x + 1}", answer="1 + x")] * (self._grader.chunk_size * workers)
        program = [GradeItem(response="```python\nprint(1)\n```", domain="code", tests=tests)] * workers
        self.grade([*algebra, *program])

    @property
    def isolation(self) -> str:
        """The sandboxes' isolation level (starts them; refused below `min_isolation`)."""
        return str(self._grader.code_sandbox().isolation)

    def close(self) -> None:
        self._grader.close()


_graders: dict[tuple[int, GraderConfig], SharedGrader] = {}
_graders_lock = threading.Lock()


def shared_grader(config: GraderConfig | None = None) -> SharedGrader:
    """This process's grader for `config` (started on first use, kept warm). Keyed by process
    id too, so a trainer that forks reward workers gives each child its own."""
    key = (os.getpid(), config or GraderConfig())
    with _graders_lock:
        grader = _graders.get(key)
        if grader is None:
            grader = _graders[key] = SharedGrader(key[1])
        return grader
