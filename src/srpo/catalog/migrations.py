"""Versioned schema: numbered SQL files under `sql/`, applied in order, one transaction each.

A migration is `sql/NNNN_description.sql`. The catalog records every applied version in
`schema_migrations`; opening a catalog written by a newer srpo is refused rather than guessed at.
This module covers applying migrations, not connecting (see `connection`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from srpo.catalog.records import utcnow
from srpo.errors import CatalogError

if TYPE_CHECKING:
    import duckdb

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


def _split_statements(sql: str) -> tuple[str, ...]:
    """Split on semicolons that end a line; comments are dropped first."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    chunks = re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE)
    return tuple(chunk.strip() for chunk in chunks if chunk.strip())


@cache
def migrations() -> tuple[Migration, ...]:
    found = []
    for entry in resources.files("srpo.catalog").joinpath("sql").iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            version, slug = int(match.group(1)), match.group(2)
            found.append(Migration(version, slug.replace("_", " "), _split_statements(entry.read_text())))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise CatalogError(f"catalog migrations are not numbered 1..n: {[m.version for m in found]}")
    return tuple(found)


def latest_version() -> int:
    return migrations()[-1].version


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]


def check_not_newer(version: int, *, path: str) -> None:
    if version > latest_version():
        raise CatalogError(
            f"catalog {path} has schema v{version}, newer than this srpo (v{latest_version()}): "
            "upgrade srpo to use it"
        )


def migrate(con: duckdb.DuckDBPyConnection, *, path: str) -> list[int]:
    """Apply pending migrations on a read-write connection; return the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
    )
    version = current_version(con)
    check_not_newer(version, path=path)
    applied = []
    for migration in migrations():
        if migration.version <= version:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                con.execute(statement)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [migration.version, migration.description, utcnow()],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
