"""The layout rules the import contracts (pyproject.toml, `just lint`) do not cover."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "srpo"


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("srpo"):
            yield node


def test_no_module_imports_another_modules_private_names():
    found = [
        f"{path.relative_to(SRC.parent)}:{node.lineno} imports {alias.name} from {node.module}"
        for path in SRC.rglob("*.py")
        for node in _imports(path)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert found == []


def test_tests_mirror_the_packages():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    tests = {p.name for p in SRC.parents[1].joinpath("tests").iterdir() if (p / "__init__.py").is_file()}
    assert packages - {"data"} <= tests, sorted(packages - tests)
