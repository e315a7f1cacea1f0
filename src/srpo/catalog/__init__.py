"""The catalog: an embedded DuckDB file holding every problem, ingest, run and rollout.

Public API: `Catalog` (open, `reader()`, `writer()`), `resolve_catalog_path`, the records in
`records` and the code test format in `testspec`. Importing this package does not import DuckDB.
"""

from srpo.catalog.connection import Catalog, resolve_catalog_path
from srpo.catalog.records import InvalidRow, Problem, make_problem_id

__all__ = ["Catalog", "InvalidRow", "Problem", "make_problem_id", "resolve_catalog_path"]
