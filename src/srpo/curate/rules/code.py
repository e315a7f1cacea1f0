"""Code filters: reject tasks the sandbox cannot judge fairly.

Signals come from three places: the statement's text, the reference solution (parsed with
`ast`: its imports and its calls to `open`), and dataset fields kept in metadata
(CodeContests' `input_file` / `output_file`).
- `code.file_io`: a named file to open (input.txt, "the file named data.csv", "read from
  scores.txt"), `freopen`, a solution that opens files, dataset file fields; "the input file" /
  "output file" without a name only when the tests are not stdin/stdout (Codeforces-style
  statements call standard input "the input file").
- `code.network`: HTTP, sockets, APIs, downloads; a solution importing a network module.
- `code.environment`: third-party packages (anything outside the standard library that is not
  in `allowed_packages`), GUI / OS-specific / process-spawning modules, or a statement that
  asks for pandas, numpy, Django...
- `code.special_judge`: interactive problems, several accepted outputs ("print any of them",
  "in any order") without a checker in the tests, real numbers judged with a tolerance.
What they do not catch: a statement that needs a library without naming it, or a checker
requirement phrased in words these patterns do not know.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from srpo.catalog.testspec import AssertTests, CodeTests, StdioTests
from srpo.curate.rules.registry import Subject, rule

NETWORK_MODULES = frozenset({
    "socket", "requests", "urllib", "urllib2", "urllib3", "http", "httplib", "ftplib", "smtplib",
    "aiohttp", "httpx", "websocket", "websockets", "paramiko", "telnetlib", "poplib", "imaplib",
    "xmlrpc", "ssl", "socketserver", "grpc",
})  # fmt: skip
ENVIRONMENT_MODULES = frozenset({
    "tkinter", "turtle", "curses", "subprocess", "multiprocessing", "ctypes", "winreg", "msvcrt",
    "_winapi", "pty", "resource", "signal", "threading", "concurrent",
})  # fmt: skip
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}

# A file the program must open: a conventional judge file name, a file "named"/"called" X, or a
# verb of reading or writing near a file name; or C's freopen.
_NAMED_FILE = re.compile(
    r"\b(?:input|output)\.(?:txt|in|out)\b|\bfreopen\b"
    r"|\bfiles?\s+(?:named|called)\s+[\"'`]?[\w-]+\.\w{1,4}\b"
    r"|\b(?:open|read|reads|reading|write|writes|writing|save|saves|load|loads)\b[^.\n]{0,40}?"
    r"[\"'`]?\b[\w-]+\.(?:txt|csv|tsv|json|xml|dat|log|in|out)\b",
    re.IGNORECASE,
)
# Files without a name: on Codeforces-style sites "the input file" is standard input, so these
# words only count when the tests are not stdin/stdout.
_UNNAMED_FILE = re.compile(
    r"\b(?:input|output)\s+files?\b|\b(?:read|reads|write|writes)\s+(?:from|to|into)\s+(?:the\s+|a\s+)?file\b",
    re.IGNORECASE,
)
_NETWORK_TEXT = re.compile(
    r"\bhttps?\s+requests?\b|\bREST(?:ful)?\s+API\b|\bweb\s*sockets?\b|\bsocket\s+connection\b"
    r"|\bdownload\s+(?:the|a)\s+(?:file|page|web\s*page)\b|\bfetch\s+(?:the|a)\s+(?:url|web\s*page)\b"
    r"|\bsend\s+an?\s+(?:e-?mail|http)\b",
    re.IGNORECASE,
)
_LIBRARY_TEXT = re.compile(
    r"\b(?:using|use|with|import)\s+(?:the\s+)?(?:pandas|numpy|scipy|tensorflow|pytorch|torch|sklearn|"
    r"scikit-learn|matplotlib|django|flask|opencv|selenium|beautifulsoup|bs4)\b|\bpandas\s+data\s*frame\b",
    re.IGNORECASE,
)
_INTERACTIVE = re.compile(
    r"\binteractive\s+problem\b|\binteractor\b|\bflush\s+the\s+output\b|\bthis\s+problem\s+is\s+interactive\b",
    re.IGNORECASE,
)
_ANY_OUTPUT = re.compile(
    r"\b(?:print|output|return)\s+any\b(?!\s+(?:integer|number|line|string)s?\b)"
    r"|\bany\s+(?:of\s+them|one\s+of\s+them|valid\s+(?:answer|solution)|correct\s+(?:answer|solution))\b"
    r"|\bmultiple\s+(?:possible\s+|valid\s+|correct\s+)?(?:answers|solutions)\b"
    r"|\b(?:answer|solution)s?\s+(?:is|are)\s+not\s+unique\b"
    r"|\b(?:return|print|output)\b[^.\n]{0,60}\bin\s+any\s+order\b",
    re.IGNORECASE,
)
_TOLERANCE = re.compile(
    r"\b(?:absolute|relative)\s+(?:or\s+(?:absolute|relative)\s+)?error\b"
    r"|\b(?:absolute|relative)\s+difference\s+between\s+(?:your|the\s+jury's|the\s+correct)\b"
    r"|\b(?:error|difference)\s+(?:does\s+not|doesn't|should\s+not|shouldn't|must\s+not)\s+exceed\b",
    re.IGNORECASE,
)
_ORDER_FREE_CHECK = re.compile(r"\bsorted\(|\bset\(|\bCounter\(|\.sort\(")


def parse_solution(solution: str | None) -> ast.AST | None:
    if not solution:
        return None
    with warnings.catch_warnings():  # dataset code has invalid escapes like "\d": not our concern
        warnings.simplefilter("ignore", SyntaxWarning)  # Python 3.12+
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.11
        try:
            return ast.parse(solution)
        except (SyntaxError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class SolutionFacts:
    """What the rules need from a reference solution, found in one walk of its syntax tree."""

    imports: frozenset[str] = frozenset()
    """Top-level names of the modules it imports (`os.path` -> `os`)."""
    opens_files: bool = False
    """It calls open()/io.open() on anything but stdin/stdout (`open(0)` reads stdin)."""


def _is_stdin(argument: ast.expr) -> bool:
    if isinstance(argument, ast.Constant):
        return argument.value in (0, "/dev/stdin", 1, "/dev/stdout")
    return isinstance(argument, ast.Call) and "fileno" in ast.unparse(argument)


def _opens_a_file(node: ast.Call) -> bool:
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    return name == "open" and bool(node.args) and not _is_stdin(node.args[0])


def solution_facts(solution: str | None) -> SolutionFacts:
    tree = parse_solution(solution)
    if tree is None:
        return SolutionFacts()
    imports: set[str] = set()
    opens = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imports.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and not opens:
            opens = _opens_a_file(node)
    return SolutionFacts(imports=frozenset(imports), opens_files=opens)


def _metadata_files(metadata: Mapping[str, Any]) -> bool:
    names = [metadata.get("input_file"), metadata.get("output_file")]
    return any(isinstance(n, str) and n.strip() and n.strip() not in ("stdin", "stdout") for n in names)


def needs_file_io(
    question: str, facts: SolutionFacts, metadata: Mapping[str, Any], *, tests: CodeTests | None = None
) -> bool:
    """A named file to open, a solution that opens one, dataset file fields; "the input file"
    only when the tests are not stdin/stdout (there it means standard input)."""
    if _NAMED_FILE.search(question) or facts.opens_files or _metadata_files(metadata):
        return True
    return not isinstance(tests, StdioTests) and bool(_UNNAMED_FILE.search(question))


@rule("code.file_io")
def _file_io(subject: Subject) -> bool:
    problem = subject.problem
    return needs_file_io(problem.question, subject.facts, problem.metadata, tests=problem.tests)


def needs_network(question: str, facts: SolutionFacts) -> bool:
    return bool(_NETWORK_TEXT.search(question)) or bool(facts.imports & NETWORK_MODULES)


@rule("code.network")
def _network(subject: Subject) -> bool:
    return needs_network(subject.problem.question, subject.facts)


def needs_environment(question: str, facts: SolutionFacts, *, allowed: Iterable[str]) -> bool:
    modules = facts.imports - set(allowed) - NETWORK_MODULES
    third_party = {m for m in modules if m not in STDLIB}
    return bool(_LIBRARY_TEXT.search(question)) or bool(third_party) or bool(modules & ENVIRONMENT_MODULES)


@rule("code.environment")
def _environment(subject: Subject) -> bool:
    return needs_environment(subject.problem.question, subject.facts, allowed=subject.config.allowed_packages)


def needs_special_judge(question: str, tests: CodeTests | None, *, reject_tolerance: bool) -> bool:
    if _INTERACTIVE.search(question):
        return True
    if reject_tolerance and _TOLERANCE.search(question):
        return True
    match = _ANY_OUTPUT.search(question)
    if not match:
        return False
    checked = isinstance(tests, AssertTests) and bool(_ORDER_FREE_CHECK.search(tests.code))
    return not checked


@rule("code.special_judge")
def _special_judge(subject: Subject) -> bool:
    problem = subject.problem
    return needs_special_judge(
        problem.question, problem.tests, reject_tolerance=subject.config.reject_tolerance_judged
    )
