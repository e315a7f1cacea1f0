"""`srpo-curate grade`: grade a JSONL file of responses, streaming, in order.

Input lines: `{"id", "domain": "math", "answer": gold, "response": text}`; instead of
`answer`, a `problem_id` takes the gold (or, for code, the tests) from the catalog. Code lines
carry `"tests"` in the shared test format. Each output line is the input object plus `reward`,
`status`, `extracted` and `detail` (code lines also `passed_fraction` and the sandbox's
`isolation`), in input order. A line that cannot be read still gets an
output line (`{"line": n, "status": "error", ...}`), so output line n always answers input
line n, and is reported with its line number.

Lines are read and graded a batch at a time through one `Grader`, so memory stays flat and
the worker processes stay warm for the whole file.

Covers: reading, validating, resolving golds, writing, the summary. Does not cover: grading
(see `grading`).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from srpo.errors import InputError
from srpo.verify.config import GraderConfig
from srpo.verify.grading import Grade, GradeItem, Grader

MAX_REPORTED_LINES = 10


@dataclass(frozen=True, kw_only=True)
class GradeFileOptions:
    input: Path
    """JSONL of responses; `-` reads stdin."""
    output: Path
    """Graded JSONL; `-` writes stdout."""
    grader: GraderConfig = field(default_factory=GraderConfig)
    batch_size: int = 2000
    """Lines graded together (and held in memory) at a time."""
    catalog: Path | None = None
    """Where `problem_id` lines take their gold; None: $SRPO_CATALOG or ./srpo.duckdb."""


@dataclass(slots=True)
class GradeFileReport:
    lines: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reward_sum: float = 0.0
    bad_lines: int = 0
    bad_examples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def mean_reward(self) -> float:
        return self.reward_sum / self.lines if self.lines else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "statuses": dict(self.statuses),
            "mean_reward": round(self.mean_reward, 4),
            "bad_lines": self.bad_lines,
            "bad_examples": self.bad_examples,
            "elapsed_s": round(self.elapsed_s, 2),
            "responses_per_s": round(self.lines / self.elapsed_s, 1) if self.elapsed_s else None,
        }


@dataclass(slots=True)
class _Line:
    """One input line: its object (None when unreadable) and why it cannot be graded."""

    number: int
    row: dict[str, Any] | None
    error: str | None = None
    item: GradeItem | None = None


class _LineError(ValueError):
    pass


def _parse(number: int, text: str) -> _Line:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as error:
        return _Line(number, None, f"not valid JSON: {error.msg}")
    if not isinstance(row, dict):
        return _Line(number, None, "expected a JSON object")
    try:
        _validate(row)
    except _LineError as error:
        return _Line(number, row, str(error))
    return _Line(number, row)


def _validate(row: dict[str, Any]) -> None:
    if not isinstance(row.get("response"), str):
        raise _LineError("field 'response': missing or not a string")
    domain = row.get("domain", "math")
    if domain not in ("math", "code"):
        raise _LineError(f"field 'domain': must be math or code, got {domain!r}")
    if "problem_id" in row and not isinstance(row["problem_id"], str):
        raise _LineError("field 'problem_id': not a string")
    answer = row.get("answer")
    if answer is not None and (isinstance(answer, bool) or not isinstance(answer, str | int | float)):
        raise _LineError("field 'answer': expected a string or a number")
    if domain == "math" and answer is None and "problem_id" not in row:
        raise _LineError("field 'answer': missing (give the gold answer, or a problem_id)")
    if domain == "code" and row.get("tests") is None and "problem_id" not in row:
        raise _LineError("field 'tests': missing (give the tests, or a problem_id)")


def _answer_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _resolve(lines: list[_Line], catalog: Path | None) -> None:
    """Build each good line's GradeItem, taking golds of `problem_id` lines from the catalog."""
    wanted = [
        line.row["problem_id"]
        for line in lines
        if line.error is None and line.row and line.row.get("answer") is None and "problem_id" in line.row
    ]
    stored = _stored_golds(wanted, catalog) if wanted else {}
    for line in lines:
        if line.error is not None or line.row is None:
            continue
        row = line.row
        domain, answer, tests = row.get("domain", "math"), row.get("answer"), row.get("tests")
        if "problem_id" in row and (
            (domain == "math" and answer is None) or (domain == "code" and tests is None)
        ):
            gold = stored.get(row["problem_id"])
            if gold is None:
                line.error = f"field 'problem_id': {row['problem_id']!r} is not in the catalog"
                continue
            answer, tests = gold.answer, gold.tests
        if domain == "code" and isinstance(tests, str):
            tests = _code_tests(tests)
        line.item = GradeItem(
            response=row["response"],
            answer=_answer_text(answer) if answer is not None else None,
            domain=domain,
            tests=tests,
        )


def _code_tests(text: str) -> Any:
    from srpo.catalog.testspec import TestFormatError, parse_tests

    try:
        return parse_tests(text)
    except (TestFormatError, ValueError):
        return text


def _stored_golds(problem_ids: list[str], catalog: Path | None) -> dict[str, Any]:
    from srpo.catalog import Catalog
    from srpo.catalog.verification import golds_for

    with Catalog.open(catalog).reader() as con:
        return golds_for(con, problem_ids)


def _output_row(line: _Line, grade: Grade | None) -> dict[str, Any]:
    if grade is None:
        base = dict(line.row) if line.row is not None else {"line": line.number}
        return {**base, "reward": 0.0, "status": "error", "extracted": None, "detail": line.error}
    row = {**(line.row or {}), "reward": grade.reward, "status": grade.code_status or grade.status}
    row.update({"extracted": grade.extracted, "detail": grade.detail})
    if grade.passed_fraction is not None:
        row["passed_fraction"] = grade.passed_fraction
    if grade.isolation is not None:
        row["isolation"] = grade.isolation
    return row


@contextmanager
def _open_input(path: Path) -> Iterator[TextIO]:
    if str(path) == "-":
        yield sys.stdin
        return
    if not path.is_file():
        raise InputError(f"--in: no file {path}")
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield handle


@contextmanager
def _open_output(path: Path) -> Iterator[TextIO]:
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        yield handle


def _batches(handle: TextIO, size: int) -> Iterator[list[_Line]]:
    batch: list[_Line] = []
    for number, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        batch.append(_parse(number, text))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def grade_file(
    options: GradeFileOptions, *, on_progress: Callable[[int], None] | None = None
) -> GradeFileReport:
    """Grade every line of `options.input` into `options.output`, in order."""
    started = time.monotonic()
    report = GradeFileReport()
    options.grader.validate()
    with (
        _open_input(options.input) as source,
        _open_output(options.output) as sink,
        Grader(options.grader) as grader,
    ):
        for batch in _batches(source, max(1, options.batch_size)):
            _resolve(batch, options.catalog)
            graded = [line for line in batch if line.item is not None]
            grades = grader.grade([line.item for line in graded], on_done=on_progress)  # type: ignore[misc]
            by_line = {id(line): grade for line, grade in zip(graded, grades, strict=True)}
            for line in batch:
                grade = by_line.get(id(line))
                row = _output_row(line, grade)
                sink.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                _count(report, line, row, options.input)
            if on_progress and len(batch) > len(graded):
                on_progress(len(batch) - len(graded))
            sink.flush()
    report.elapsed_s = time.monotonic() - started
    return report


def _count(report: GradeFileReport, line: _Line, row: dict[str, Any], source: Path) -> None:
    report.lines += 1
    report.statuses[row["status"]] += 1
    report.reward_sum += float(row["reward"])
    if line.error is not None:
        report.bad_lines += 1
        if len(report.bad_examples) < MAX_REPORTED_LINES:
            report.bad_examples.append(f"{source}:{line.number}: {line.error}")
