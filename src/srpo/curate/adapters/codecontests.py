"""Competitive programming with stdin/stdout tests: CodeContests, Codeforces and the like.

Two shapes: DeepCoder/rLLM (`problem`, `tests` as `{"inputs": [...], "outputs": [...]}` or a
list of `{"input", "output"}`), and DeepMind CodeContests (`description`, `public_tests`,
`private_tests`, `generated_tests`, `solutions`, `input_file`, `output_file`, limits). The first
Python 3 solution, when there is one, becomes the reference solution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srpo.catalog.testspec import StdioCase, StdioTests
from srpo.curate.adapters.base import Adapter, Draft, field_sets, json_value, share, text, type_name
from srpo.errors import RowError

_PYTHON3 = 3  # CodeContests language code for Python 3
_KEPT_FIELDS = ("name", "source", "difficulty", "cf_contest_id", "cf_index", "cf_rating",
                "cf_tags", "input_file", "output_file", "memory_limit_bytes")  # fmt: skip


def _pairs(inputs: Any, outputs: Any, field: str) -> list[StdioCase]:
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise RowError(field, "expected lists of inputs and outputs")
    if len(inputs) != len(outputs):
        raise RowError(field, f"{len(inputs)} inputs but {len(outputs)} outputs")
    cases = []
    for i, (given, expected) in enumerate(zip(inputs, outputs, strict=True)):
        if not isinstance(given, str) or not isinstance(expected, str):
            raise RowError(field, f"case {i}: input and output must be strings")
        cases.append(StdioCase(input=given, output=expected))
    return cases


def _rllm_cases(row: Mapping[str, Any]) -> list[StdioCase]:
    tests = json_value(row, "tests", (dict, list))
    if isinstance(tests, dict):
        return _pairs(tests.get("inputs"), tests.get("outputs"), "tests")
    cases = []
    for i, case in enumerate(tests):
        if not isinstance(case, Mapping):
            raise RowError("tests", f"case {i} is {type_name(case)}, expected an object")
        if case.get("testtype", "stdin") != "stdin":
            raise RowError("tests", f"case {i} has testtype {case['testtype']!r}; only stdin is read")
        cases.extend(_pairs([case.get("input")], [case.get("output")], "tests"))
    return cases


def _deepmind_cases(row: Mapping[str, Any]) -> tuple[list[StdioCase], dict[str, int]]:
    cases, counts = [], {}
    for name in ("public_tests", "private_tests", "generated_tests"):
        block = row.get(name)
        if block is None:
            continue
        if not isinstance(block, Mapping):
            raise RowError(name, f"expected an object, got {type_name(block)}")
        found = _pairs(block.get("input", []), block.get("output", []), name)
        counts[name] = len(found)
        cases.extend(found)
    return cases, counts


def _python3_solution(row: Mapping[str, Any]) -> str | None:
    solutions = row.get("solutions")
    if not isinstance(solutions, Mapping):
        return None
    for language, code in zip(solutions.get("language", []), solutions.get("solution", []), strict=False):
        if language == _PYTHON3 and isinstance(code, str):
            return code
    return None


def _limits(row: Mapping[str, Any], metadata: dict[str, Any]) -> None:
    limit = row.get("time_limit")
    if isinstance(limit, Mapping) and limit.get("seconds") is not None:
        metadata["time_limit_s"] = limit["seconds"] + (limit.get("nanos") or 0) / 1e9
    for name in _KEPT_FIELDS:
        if row.get(name) not in (None, "", []):
            metadata[name] = row[name]


def convert(row: Mapping[str, Any]) -> Draft:
    metadata: dict[str, Any] = {}
    if "description" in row:
        question = text(row, "description")
        cases, counts = _deepmind_cases(row)
        metadata["test_counts"] = counts
        solution = _python3_solution(row)
    else:
        question = text(row, "problem", "question")
        cases = _rllm_cases(row)
        solution = text(row, "solution", required=False)
    _limits(row, metadata)
    return Draft(
        domain="code",
        question=question.strip(),
        solution=solution,
        tests=StdioTests(cases=tuple(cases)),
        metadata=metadata,
    )


def _stdio_tests(row: Mapping[str, Any]) -> bool:
    tests = row["tests"]
    if isinstance(tests, str):
        return tests.lstrip().startswith(("{", "["))
    if isinstance(tests, Mapping):
        return "inputs" in tests
    return isinstance(tests, list) and all(isinstance(t, Mapping) and "input" in t for t in tests)


def detect(rows: Sequence[Mapping[str, Any]], file_name: str) -> float:
    fields = field_sets(rows)
    if {"description", "public_tests"} <= fields:
        return 1.0
    if "tests" in fields and ({"problem", "question"} & fields) and "solutions" not in fields:
        return 0.9 * share(rows, _stdio_tests)
    return 0.0


ADAPTER = Adapter(
    name="codecontests",
    description="stdin/stdout programming problems: CodeContests, Codeforces, DeepCoder test sets",
    convert=convert,
    detect=detect,
)
