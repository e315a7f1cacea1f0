"""srpo's graders as verl's reward: `reward.custom_reward_function.path=pkg://srpo.integrations.verl`,
`reward.custom_reward_function.name=compute_score` (`custom_reward_function.*` before verl 0.7;
`compute_score_batch` with the `batch` reward manager).

verl calls `compute_score(data_source, solution_str, ground_truth, extra_info)` per response,
with the row's `data_source`, `reward_model.ground_truth` and `extra_info` (plus verl's own
`num_turns`, `rollout_reward_scores`), and `custom_reward_function.reward_kwargs` as keywords.
Rows of `srpo-curate query --export verl` (data source `srpo/<source>`, `extra_info.domain` and
`extra_info.problem_id`) are graded exactly as `srpo-curate grade` grades the same response:
math against the gold answer, code against its tests in the sandbox (the ground truth, else
`extra_info.tests`, else the catalog's tests for the problem id). A row without a gold but with
a problem id takes it from the catalog: `reward_kwargs.catalog`, else `$SRPO_CATALOG`, else
`./srpo.duckdb`. Other rows (no `srpo/` source, no domain) go to verl's own
`default_compute_score` when verl is installed.

Returns `{"score": reward, "acc": 1.0 | 0.0, "status": ..., "grade_status": ...}`: `status` in
the trainer's vocabulary (correct, wrong, no_answer, timeout, error; what `rollouts.status`
holds), `grade_status` what `srpo-curate grade` prints (for code the sandbox's verdict:
passed, failed, timeout, memory, ...). verl keeps them as reward extra info, which the
curriculum sampler (`sampler`) records. `reward_kwargs.grader` (a mapping of `GraderConfig`
fields: `workers`, `timeout_s`, `sandbox`) sets the grader; each process keeps one warm.

Covers: verl's reward call shapes. Does not cover: the grading rules (`srpo.verify`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from srpo.integrations.scoring import (
    GoldLookup,
    Target,
    grade_item,
    missing_gold,
    shared_grader,
    target_from_label,
)
from srpo.verify.config import GraderConfig
from srpo.verify.grading import Grade

SOURCE_PREFIX = "srpo/"

_lookups: dict[str | None, GoldLookup] = {}
_lookups_lock = threading.Lock()


def _lookup(catalog: str | None) -> GoldLookup:
    with _lookups_lock:
        if catalog not in _lookups:
            _lookups[catalog] = GoldLookup(catalog)
        return _lookups[catalog]


def _grader_config(grader: Any) -> GraderConfig:
    if grader is None:
        return GraderConfig()
    if isinstance(grader, GraderConfig):
        return grader
    from srpo.config import build

    return build(GraderConfig, dict(grader), where="reward_kwargs.grader.")


def is_srpo_row(data_source: Any, extra_info: Mapping[str, Any] | None) -> bool:
    """A row srpo exported (its data source starts with `srpo/`) or one that names its domain."""
    return str(data_source or "").startswith(SOURCE_PREFIX) or bool((extra_info or {}).get("domain"))


def row_target(ground_truth: Any, extra_info: Mapping[str, Any] | None) -> Target:
    """What a verl row's response is graded against (before any catalog lookup)."""
    info = dict(extra_info or {})
    domain = info.get("domain")
    target = target_from_label(
        ground_truth, domain=str(domain) if domain else None, problem_id=info.get("problem_id")
    )
    if target.domain == "code" and target.tests is None and info.get("tests") is not None:
        from dataclasses import replace

        target = replace(target, tests=info["tests"])
    return target


def _score(grade: Grade) -> dict[str, Any]:
    return {
        "score": grade.reward,
        "acc": 1.0 if grade.status == "correct" else 0.0,
        "status": grade.status,
        "grade_status": grade.code_status or grade.status,
    }


def _grade_rows(
    solutions: Sequence[str], targets: list[Target], *, catalog: str | None, grader: Any
) -> list[dict[str, Any]]:
    if any(not t.complete and t.problem_id for t in targets):
        targets = _lookup(catalog).complete(targets)
    items = [grade_item(text or "", target) for text, target in zip(solutions, targets, strict=True)]
    wanted = [item for item in items if item is not None]
    found = iter(shared_grader(_grader_config(grader)).grade(wanted)) if wanted else iter(())
    grades = [
        next(found) if item is not None else missing_gold(t) for item, t in zip(items, targets, strict=True)
    ]
    return [_score(grade) for grade in grades]


def _verl_default(
    data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any, **kwargs: Any
) -> Any:
    try:
        from verl.utils.reward_score import default_compute_score
    except ImportError as error:
        raise ValueError(
            f"data_source {data_source!r}: not an srpo row (no 'srpo/' prefix, no extra_info.domain) "
            "and verl's default_compute_score is not importable here"
        ) from error
    return default_compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs)


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    catalog: str | None = None,
    grader: Any = None,
    **kwargs: Any,
) -> dict[str, Any] | Any:
    """One response's score (see the module docstring)."""
    if not is_srpo_row(data_source, extra_info):
        return _verl_default(data_source, solution_str, ground_truth, extra_info, **kwargs)
    return _grade_rows(
        [solution_str], [row_target(ground_truth, extra_info)], catalog=catalog, grader=grader
    )[0]


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Mapping[str, Any] | None],
    *,
    catalog: str | None = None,
    grader: Any = None,
    **kwargs: Any,
) -> list[dict[str, Any] | Any]:
    """verl's batch reward manager's call: every response of a batch in one grading pass (math
    compared together, code programs run side by side in the sandbox pool)."""
    results: list[Any] = [None] * len(solution_strs)
    srpo_rows = [
        i for i, (s, e) in enumerate(zip(data_sources, extra_infos, strict=True)) if is_srpo_row(s, e)
    ]
    scores = _grade_rows(
        [solution_strs[i] for i in srpo_rows],
        [row_target(ground_truths[i], extra_infos[i]) for i in srpo_rows],
        catalog=catalog,
        grader=grader,
    )
    for index, score in zip(srpo_rows, scores, strict=True):
        results[index] = score
    for index in range(len(results)):
        if results[index] is None:
            results[index] = _verl_default(
                data_sources[index], solution_strs[index], ground_truths[index], extra_infos[index], **kwargs
            )
    return results
