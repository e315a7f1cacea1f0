"""The one JSON shape for code tests, used by adapters, the catalog, the sandbox and exports.

    {"type": "stdio",  "cases": [{"input": str, "output": str}, ...]}
    {"type": "call",   "fn_name": str, "cases": [{"args": [...], "kwargs": {...}?, "expected": ...}]}
    {"type": "assert", "code": str, "entry_point": str | null, "prelude": str?}

`assert` holds HumanEval/MBPP-style test code: either it defines `check(candidate)` (then the
harness calls `check(<entry_point>)`, where entry_point is an expression such as `add` or
`Solution().twoSum`) or it holds bare asserts. `prelude` is code run before the candidate
(imports a reference solution relies on, e.g. `from typing import List`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class StdioCase:
    input: str
    output: str


@dataclass(frozen=True, slots=True)
class StdioTests:
    cases: tuple[StdioCase, ...]
    type: Literal["stdio"] = "stdio"


@dataclass(frozen=True, slots=True)
class CallCase:
    args: tuple[Any, ...]
    expected: Any
    kwargs: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CallTests:
    fn_name: str
    cases: tuple[CallCase, ...]
    type: Literal["call"] = "call"


@dataclass(frozen=True, slots=True)
class AssertTests:
    code: str
    entry_point: str | None = None
    prelude: str | None = None
    type: Literal["assert"] = "assert"


CodeTests = StdioTests | CallTests | AssertTests


class TestFormatError(ValueError):
    """The tests value does not follow the shape above; the message names the offending path."""

    __test__ = False  # not a pytest class


def _require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise TestFormatError(f"{where}.{key} is missing")
    value = obj[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise TestFormatError(f"{where}.{key} must be {names}, got {type(value).__name__}")
    return value


def _stdio(obj: Mapping[str, Any]) -> StdioTests:
    cases = []
    for i, case in enumerate(_require(obj, "cases", list, "tests")):
        if not isinstance(case, Mapping):
            raise TestFormatError(f"tests.cases[{i}] must be an object")
        cases.append(
            StdioCase(
                input=_require(case, "input", str, f"tests.cases[{i}]"),
                output=_require(case, "output", str, f"tests.cases[{i}]"),
            )
        )
    return StdioTests(cases=tuple(cases))


def _call(obj: Mapping[str, Any]) -> CallTests:
    fn_name = _require(obj, "fn_name", str, "tests")
    cases = []
    for i, case in enumerate(_require(obj, "cases", list, "tests")):
        if not isinstance(case, Mapping):
            raise TestFormatError(f"tests.cases[{i}] must be an object")
        if "expected" not in case:
            raise TestFormatError(f"tests.cases[{i}].expected is missing")
        kwargs = case.get("kwargs")
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise TestFormatError(f"tests.cases[{i}].kwargs must be an object")
        args = _require(case, "args", list, f"tests.cases[{i}]")
        cases.append(CallCase(args=tuple(args), expected=case["expected"], kwargs=kwargs))
    return CallTests(fn_name=fn_name, cases=tuple(cases))


def _assert(obj: Mapping[str, Any]) -> AssertTests:
    entry_point = obj.get("entry_point")
    if entry_point is not None and not isinstance(entry_point, str):
        raise TestFormatError("tests.entry_point must be str or null")
    prelude = obj.get("prelude")
    if prelude is not None and not isinstance(prelude, str):
        raise TestFormatError("tests.prelude must be str or null")
    return AssertTests(code=_require(obj, "code", str, "tests"), entry_point=entry_point, prelude=prelude)


_PARSERS = {"stdio": _stdio, "call": _call, "assert": _assert}


def parse_tests(value: str | Mapping[str, Any]) -> CodeTests:
    """Parse and validate a tests value (a JSON string or an already-decoded object)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise TestFormatError(f"tests is not valid JSON: {error.msg}") from error
    if not isinstance(value, Mapping):
        raise TestFormatError(f"tests must be an object, got {type(value).__name__}")
    kind = value.get("type")
    if kind not in _PARSERS:
        raise TestFormatError(f"tests.type must be one of stdio, call, assert; got {kind!r}")
    return _PARSERS[kind](value)


def tests_to_dict(tests: CodeTests) -> dict[str, Any]:
    if isinstance(tests, StdioTests):
        return {"type": "stdio", "cases": [{"input": c.input, "output": c.output} for c in tests.cases]}
    if isinstance(tests, CallTests):
        cases = []
        for c in tests.cases:
            case: dict[str, Any] = {"args": list(c.args), "expected": c.expected}
            if c.kwargs:
                case["kwargs"] = dict(c.kwargs)
            cases.append(case)
        return {"type": "call", "fn_name": tests.fn_name, "cases": cases}
    out: dict[str, Any] = {"type": "assert", "code": tests.code, "entry_point": tests.entry_point}
    if tests.prelude:
        out["prelude"] = tests.prelude
    return out


def tests_to_json(tests: CodeTests) -> str:
    return json.dumps(tests_to_dict(tests), ensure_ascii=False)


def case_count(tests: CodeTests) -> int:
    """Number of cases; an assert block counts its `assert` statements (at least 1)."""
    if isinstance(tests, AssertTests):
        return max(1, tests.code.count("assert "))
    return len(tests.cases)
