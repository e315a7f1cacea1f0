"""Opening the catalog file under DuckDB's one-writer rule.

DuckDB lets one process open a file read-write, or many processes open it read-only, never both.
srpo commands therefore hold a write connection only while writing a batch, and open read-only
connections for queries. When the file is locked, opening retries for a short while (the holder
is usually between two batches) and then raises `CatalogLockedError` with one line saying which
process holds it, in which mode, and what to do.

Covers: path resolution, connecting with retries, migrations on first open, the lock message.
Does not cover: what is stored (one module per table group: `problems`, `ingests`, `runs`, ...)
or how records look (see `records`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from srpo.catalog import migrations
from srpo.errors import CatalogError, CatalogLockedError

if TYPE_CHECKING:
    import duckdb

DEFAULT_CATALOG = "srpo.duckdb"
CATALOG_ENV = "SRPO_CATALOG"
LOCK_TIMEOUT_ENV = "SRPO_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 10.0

_LOCK_PID = re.compile(r"\(PID (\d+)\)")


def resolve_catalog_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--catalog PATH`, else `$SRPO_CATALOG`, else `./srpo.duckdb`."""
    chosen = explicit or os.environ.get(CATALOG_ENV) or DEFAULT_CATALOG
    return Path(chosen).expanduser()


def _lock_timeout(explicit: float | None) -> float:
    if explicit is not None:
        return explicit
    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    try:
        return float(raw) if raw else DEFAULT_LOCK_TIMEOUT_S
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class LockHolder:
    pid: int | None
    mode: str  # "write", "read" or "unknown"
    command: str | None


def _lock_mode(path: Path, pid: int) -> str:
    """Read the holder's fcntl lock type from /proc/locks (Linux); 'unknown' elsewhere."""
    try:
        inode = path.stat().st_ino
        text = Path("/proc/locks").read_text()
    except OSError:
        return "unknown"
    for line in text.splitlines():
        parts = line.split()
        # "1: POSIX  ADVISORY  WRITE 2506 fe:00:2148081 0 EOF"
        if len(parts) >= 6 and parts[4] == str(pid) and parts[5].endswith(f":{inode}"):
            return {"WRITE": "write", "READ": "read"}.get(parts[3], "unknown")
    return "unknown"


def _command_of(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    words = [Path(words[0]).name, *words[1:]] if words else words
    command = " ".join(" ".join(words).split())  # one line, even for `python -c` scripts
    return command if len(command) <= 80 else command[:77] + "..."


def describe_lock_holder(path: Path, message: str) -> LockHolder:
    match = _LOCK_PID.search(message)
    if not match:
        return LockHolder(pid=None, mode="unknown", command=None)
    pid = int(match.group(1))
    return LockHolder(pid=pid, mode=_lock_mode(path, pid), command=_command_of(pid))


def lock_message(path: Path, holder: LockHolder, *, wanted_write: bool) -> str:
    who = f"PID {holder.pid}" if holder.pid else "another process"
    if holder.command:
        who += f" ({holder.command})"
    if holder.mode == "write":
        how, advice = "holds it for writing", "wait for it to finish"
    elif holder.mode == "read":
        how, advice = "has it open read-only", "close that reader"
    else:
        how = "holds it"
        advice = "wait for it to finish" if not wanted_write else "wait for it or close it"
    return (
        f"catalog {path} is locked: {who} {how}; {advice} and try again, "
        f"or use another --catalog (waited {_lock_timeout(None):g}s; set {LOCK_TIMEOUT_ENV} to wait longer)"
    )


def _is_lock_error(error: Exception) -> bool:
    return "Could not set lock" in str(error) or "Conflicting lock" in str(error)


def connect(path: Path, *, read_only: bool, lock_timeout: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open `path`, retrying while another process holds a conflicting lock."""
    import duckdb

    deadline = time.monotonic() + _lock_timeout(lock_timeout)
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if not _is_lock_error(error):
                raise CatalogError(f"cannot open catalog {path}: {_first_line(error)}") from error
            if time.monotonic() >= deadline:
                holder = describe_lock_holder(path, str(error))
                raise CatalogLockedError(lock_message(path, holder, wanted_write=not read_only)) from error
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as error:
            raise CatalogError(f"cannot open catalog {path}: {_first_line(error)}") from error


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class Catalog:
    """A catalog file. Connections are short-lived: take one with `reader()` or `writer()`.

    Opening makes sure the schema is current (creating the file if asked), so every connection
    handed out afterwards sees the latest tables.
    """

    def __init__(self, path: Path, *, lock_timeout: float | None = None) -> None:
        self.path = path
        self.lock_timeout = lock_timeout

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        lock_timeout: float | None = None,
    ) -> Catalog:
        resolved = resolve_catalog_path(path)
        if not resolved.exists():
            if not create:
                raise CatalogError(
                    f"no catalog at {resolved}: run `srpo-curate ingest SOURCE` first, "
                    f"or point --catalog / ${CATALOG_ENV} at an existing one"
                )
            resolved.parent.mkdir(parents=True, exist_ok=True)
        catalog = cls(resolved, lock_timeout=lock_timeout)
        catalog._ensure_schema()
        from srpo.catalog import spool  # the tables it writes are current only from here

        spool.merge_pending(catalog)  # rollouts a training run left while the file was locked
        return catalog

    def _ensure_schema(self) -> None:
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.reader() as con:
                version = migrations.current_version(con)
            migrations.check_not_newer(version, path=str(self.path))
            if version == migrations.latest_version():
                return
        con = connect(self.path, read_only=False, lock_timeout=self.lock_timeout)
        try:
            migrations.migrate(con, path=str(self.path))
        finally:
            con.close()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; many processes may hold one at once."""
        con = connect(self.path, read_only=True, lock_timeout=self.lock_timeout)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection inside one transaction, committed on success.

        Keep the block short: while it is open no other process can read the catalog.
        """
        con = connect(self.path, read_only=False, lock_timeout=self.lock_timeout)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()
