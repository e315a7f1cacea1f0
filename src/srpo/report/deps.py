"""The report's optional libraries, imported only when a report is drawn.

Charts are Vega-Lite specs built with Altair; vl-convert supplies the JavaScript (Vega, Vega-Lite,
vega-embed) that the HTML file carries inline, and renders PNG images without a browser. Both
come with the `report` extra (`pip install 'srpo[report]'`); without them the command stops with
one line saying so. Nothing imports them at module import time, so `srpo-curate --help` and the
trainer never load them.
"""

from __future__ import annotations

from types import ModuleType

from srpo.errors import MissingDependencyError

INSTALL = "pip install 'srpo[report]'"


def _load(name: str, package: str) -> ModuleType:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise MissingDependencyError(
            f"srpo-curate report needs {package} (the report extra: {INSTALL}): {error}"
        ) from error


def altair() -> ModuleType:
    """The `altair` module."""
    return _load("altair", "altair")


def vl_convert() -> ModuleType:
    """The `vl_convert` module (vl-convert-python)."""
    return _load("vl_convert", "vl-convert-python")


def vegalite_version() -> str | None:
    """The Vega-Lite version Altair writes specs for ("6.4"), when vl-convert has it; else None
    (vl-convert's latest)."""
    schema = str(altair().SCHEMA_VERSION).lstrip("v")
    wanted = ".".join(schema.split(".")[:2])
    return wanted if wanted in vl_convert().get_vegalite_versions() else None
