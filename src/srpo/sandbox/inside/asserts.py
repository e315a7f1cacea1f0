"""Assert-style test code, made countable.

Every `assert` statement of the test code is rewritten so that its outcome is handed to a recorder
and the tests go on: a failing or raising assert counts as one failed case, the next assert still
runs, and the first failure keeps its line and source text. Exceptions of every kind are caught
(SystemExit and KeyboardInterrupt too), so a program cannot end the tests early with a "clean" exit.
Asserts that run in a loop count once per run.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

RECORD = "__srpo_record__"
_VALUE = "__srpo_value__"
_ERROR = "__srpo_error__"
_TEXT_LIMIT = 300


class _Rewriter(ast.NodeTransformer):
    def __init__(self, source: str) -> None:
        self.source = source
        self.sites: list[tuple[int, str]] = []

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        index = len(self.sites)
        text = ast.get_source_segment(self.source, node) or f"assert at line {node.lineno}"
        self.sites.append((node.lineno, text[:_TEXT_LIMIT]))

        def record(value: ast.expr, error: ast.expr) -> ast.stmt:
            call = ast.Call(ast.Name(RECORD, ast.Load()), [ast.Constant(index), value, error], [])
            return ast.Expr(call)

        handler = ast.ExceptHandler(
            type=ast.Name("BaseException", ast.Load()),
            name=_ERROR,
            body=[record(ast.Constant(False), ast.Name(_ERROR, ast.Load()))],
        )
        replacement = ast.Try(
            body=[ast.Assign([ast.Name(_VALUE, ast.Store())], node.test)],
            handlers=[handler],
            orelse=[record(ast.Name(_VALUE, ast.Load()), ast.Constant(None))],
            finalbody=[],
        )
        return ast.copy_location(replacement, node)


def compile_tests(source: str, filename: str) -> tuple[Any, list[tuple[int, str]]]:
    """The rewritten test code's code object, and (line, text) for each assert, by index."""
    rewriter = _Rewriter(source)
    tree = ast.fix_missing_locations(rewriter.visit(ast.parse(source, filename)))
    return compile(tree, filename, "exec"), rewriter.sites


def describe(error: BaseException) -> str:
    message = str(error)
    return f"{type(error).__name__}: {message}"[:_TEXT_LIMIT] if message else type(error).__name__


class AssertRecorder:
    """Counts passed and failed asserts; calls `tick` after each (progress for the zygote)."""

    def __init__(self, sites: list[tuple[int, str]], tick: Callable[[], None]) -> None:
        self.sites = sites
        self.tick = tick
        self.passed = 0
        self.failed = 0
        self.first_failure: dict[str, Any] | None = None
        self._truth = operator.truth

    def __call__(self, index: int, value: Any, error: BaseException | None) -> None:
        ok = False
        if error is None:
            try:
                ok = self._truth(value)
            except BaseException as raised:  # a __bool__ that raises is a failed assert
                error = raised
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            if self.first_failure is None:
                line, text = self.sites[index]
                reason = describe(error) if error is not None else "AssertionError"
                self.first_failure = {"line": line, "text": text, "error": reason}
        self.tick()
