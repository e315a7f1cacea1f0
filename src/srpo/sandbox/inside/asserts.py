"""Assert-style test code, made countable.

Every `assert` statement of the test code is rewritten so that its outcome is handed to a recorder
and the tests go on: a failing or raising assert counts as one failed case, the next assert still
runs, and the first failure keeps its line and source text. Exceptions of every kind are caught
(SystemExit and KeyboardInterrupt too), so a program cannot end the tests early with a "clean" exit.
Asserts that run in a loop count once per run.
"""

from __future__ import annotations

import ast
import functools
import operator
import types
from collections.abc import Callable
from typing import Any

from srpo.sandbox.inside import integrity

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
    return compile(tree, filename, "exec", dont_inherit=True), rewriter.sites


class PreparedTests:
    """Assert-style tests compiled once in the zygote, shared by every child that runs them.

    A class with slots, not a dataclass (`dataclasses` brings `inspect` and half a megabyte into
    the zygote, which every fork copies the page tables of) nor a NamedTuple: a child reads these
    fields through slots, which the interpreter's specialised attribute reads serve directly; a
    NamedTuple's field getters take the generic lookup, which writes to the class and its getters
    (each a copied page in every child)."""

    __slots__ = ("entry_point", "error", "names", "prelude", "sites", "tests")

    def __init__(
        self,
        *,
        prelude: types.CodeType | None = None,
        tests: types.CodeType | None = None,
        entry_point: types.CodeType | None = None,
        sites: tuple[tuple[int, str], ...] = (),
        names: frozenset[str] = frozenset(),
        error: dict[str, Any] | None = None,
    ) -> None:
        self.prelude, self.tests, self.entry_point, self.sites = prelude, tests, entry_point, sites
        self.names = names
        """Names the tests, prelude and entry point mention (what the tamper check compares)."""
        self.error = error
        """The error record when the tests, prelude or entry point do not compile."""


@functools.lru_cache(maxsize=256)
def prepare(tests: str, prelude: str, entry_point: str) -> PreparedTests:
    """Compile tests, prelude and entry point (cached: GRPO grades many programs per problem)."""
    phase = "prelude"
    try:
        # No prelude (most tests): no code, and nothing for a child to run or snapshot.
        prelude_code = (
            compile(prelude, integrity.PRELUDE_FILE, "exec", dont_inherit=True) if prelude.strip() else None
        )
        phase = "tests"
        tests_code, sites = compile_tests(tests, integrity.TESTS_FILE)
        phase = "entry"
        entry_code = compile(entry_point, "<entry_point>", "eval", dont_inherit=True) if entry_point else None
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return PreparedTests(
            error={
                "kind": "error",
                "phase": phase,
                "error": describe(error),
                "line": getattr(error, "lineno", None),
            }
        )
    names = integrity.names_used(tests_code)
    if prelude_code is not None:
        names |= integrity.names_used(prelude_code)
    if entry_code is not None:
        names |= integrity.names_used(entry_code)
    return PreparedTests(
        prelude=prelude_code,
        tests=tests_code,
        entry_point=entry_code,
        sites=tuple(sites),
        names=frozenset(names),
    )


def describe(error: BaseException) -> str:
    message = str(error)
    return f"{type(error).__name__}: {message}"[:_TEXT_LIMIT] if message else type(error).__name__


class AssertRecorder:
    """Counts passed and failed asserts; calls `tick` after each (progress for the zygote)."""

    def __init__(self, sites: tuple[tuple[int, str], ...], tick: Callable[[], None]) -> None:
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
