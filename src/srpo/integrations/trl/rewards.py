"""srpo's graders as TRL reward functions.

`GRPOTrainer(reward_funcs=...)` calls each function with the batch's `prompts`, `completions`
and `completion_ids`, every other dataset column as a keyword (one value per completion) and
`trainer_state`; it wants one float per completion, or None where the function does not apply.
The columns are those `srpo-curate query --export trl` writes: `answer` (math gold), `tests`
(code tests, srpo's JSON format), `domain` and `problem_id`. A row without its gold but with a
`problem_id` takes it from the catalog.

- `math_reward`: math rows (None for code rows), graded like `srpo-curate grade`;
- `code_reward`: code rows (None for math rows), run against their tests in the sandbox;
- `srpo_reward`: every row, dispatched on its domain.

The module-level functions share one warm grader per process (`GraderConfig()` defaults); a
`TRLRewards(grader=GraderConfig(workers=8), log=...)` carries its own settings and hands every
graded completion to a `CompletionLog` (the catalog record, see `callback`). Pass either
`srpo_reward`, or `math_reward` and `code_reward`: a completion is recorded once either way.

Covers: reading TRL's arguments, grading, handing completions over. Does not cover: the
catalog writes (`callback`, `srpo.integrations.recorder`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from srpo.errors import InputError
from srpo.integrations.scoring import GoldLookup, Target, answer_text, grade_item, missing_gold, shared_grader
from srpo.verify.config import GraderConfig
from srpo.verify.grading import Grade

if TYPE_CHECKING:
    from srpo.integrations.trl.callback import CompletionLog


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or chat messages (the last assistant turn; its
    content a string or a list of text parts)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        for message in reversed(completion):
            if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
                content = message.get("content")
                if isinstance(content, str):
                    return content
                if isinstance(content, Sequence):
                    return "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return ""


def _column(columns: Mapping[str, Any], name: str, size: int) -> list[Any]:
    values = columns.get(name)
    if values is None:
        return [None] * size
    values = list(values)
    if len(values) != size:
        raise InputError(f"reward column {name!r}: {len(values)} values for {size} completions")
    return values


def _targets(columns: Mapping[str, Any], size: int) -> list[Target]:
    answers, tests = _column(columns, "answer", size), _column(columns, "tests", size)
    domains, ids = _column(columns, "domain", size), _column(columns, "problem_id", size)
    targets = []
    for index in range(size):
        domain = domains[index] or ("code" if tests[index] is not None else "math")
        answer = answers[index]
        targets.append(
            Target(
                domain=str(domain),
                answer=answer_text(answer) if answer is not None and answer != "" else None,
                tests=tests[index],
                problem_id=ids[index],
            )
        )
    return targets


class TRLRewards:
    """Reward functions for `GRPOTrainer` with one grader's settings (see the module docstring)."""

    def __init__(
        self,
        grader: GraderConfig | None = None,
        *,
        log: CompletionLog | None = None,
        catalog: str | None = None,
    ) -> None:
        self.grader_config = grader or GraderConfig()
        self.log = log
        self.golds = GoldLookup(catalog if catalog is not None else (log.catalog_path if log else None))

    def math_reward(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        """Math completions graded against `answer`; None for code rows."""
        return self._rewards(completions, columns, only="math")

    def code_reward(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        """Code completions run against `tests` in the sandbox; None for math rows."""
        return self._rewards(completions, columns, only="code")

    def srpo_reward(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        """Every completion, math or code by its row's `domain`."""
        return self._rewards(completions, columns, only=None)

    def _rewards(
        self, completions: list[Any], columns: dict[str, Any], *, only: str | None
    ) -> list[float | None]:
        texts = [completion_text(c) for c in completions]
        targets = _targets(columns, len(texts))
        chosen = [i for i, t in enumerate(targets) if only is None or t.domain == only]
        if any(not targets[i].complete and targets[i].problem_id for i in chosen):
            targets = self.golds.complete(targets)
        grades = self.grade([texts[i] for i in chosen], [targets[i] for i in chosen])
        rewards: list[float | None] = [None] * len(texts)
        for index, grade in zip(chosen, grades, strict=True):
            rewards[index] = grade.reward
        if self.log is not None:
            self.log.add(
                batch=completions, indices=chosen, targets=[targets[i] for i in chosen], grades=grades,
                texts=[texts[i] for i in chosen], completion_ids=columns.get("completion_ids"),
                trainer_state=columns.get("trainer_state"),
            )  # fmt: skip
        return rewards

    def grade(self, texts: Sequence[str], targets: Sequence[Target]) -> list[Grade]:
        """Grades of `texts` against `targets`, in order (a target without gold: error)."""
        items = [grade_item(text, target) for text, target in zip(texts, targets, strict=True)]
        wanted = [item for item in items if item is not None]
        found = iter(shared_grader(self.grader_config).grade(wanted)) if wanted else iter(())
        return [
            next(found) if item is not None else missing_gold(t)
            for item, t in zip(items, targets, strict=True)
        ]


_default: TRLRewards | None = None


def _rewards() -> TRLRewards:
    global _default
    if _default is None:
        _default = TRLRewards()
    return _default


def math_reward(prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
    """Math completions graded against the `answer` column (None for code rows)."""
    return _rewards().math_reward(prompts, completions, **columns)


def code_reward(prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
    """Code completions run against the `tests` column in srpo's sandbox (None for math rows)."""
    return _rewards().code_reward(prompts, completions, **columns)


def srpo_reward(prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
    """Every completion, graded as math or code by its row's `domain` column."""
    return _rewards().srpo_reward(prompts, completions, **columns)
