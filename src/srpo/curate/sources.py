"""Reading local dataset files into raw rows, one bad row at a time.

A SOURCE is a file or a folder of files: JSONL (`.jsonl`, `.ndjson`), JSON (an array of
objects, an object wrapping one such array, or a single object per file as in Hendrycks MATH),
Parquet and CSV/TSV, each optionally gzipped (`.gz`). `-` reads JSONL from stdin.

Every row comes out as a `RawRow` (a dict and where it came from) or a `BadRow` (where, and why it
could not be read: bad UTF-8, bad JSON, not an object, a truncated gzip stream). One bad row never
stops the others. Positions are 1-based lines for line-based files and for JSON arrays (the line
an element starts on), and 1-based record numbers for Parquet.

Covers: discovering files, the row types, the helpers every reader shares (decoding, byte
progress), a content fingerprint. The readers: `jsonl_rows`, `json_rows`, `table_rows` (Parquet,
CSV), and `read_rows` there, which picks one by format. Does not cover: mapping rows to problems
(see `adapters`) or the Hugging Face hub (see `hub`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srpo.errors import InputError

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet",
           ".pq": "parquet", ".csv": "csv", ".tsv": "tsv"}  # fmt: skip
SPLIT_WORDS = {"train": "train", "training": "train", "test": "test", "val": "validation",
               "valid": "validation", "validation": "validation", "dev": "validation"}  # fmt: skip
_SPLIT_TOKEN = re.compile(r"[A-Za-z]+")
RAW_SNIPPET = 2000

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    relpath: str
    format: str
    compressed: bool
    size: int
    split_hint: str | None = None  # the split the path names, see `_source_file`


def _source_file(path: Path, relpath: str, found: tuple[str, bool]) -> SourceFile:
    """Describe a file; its split hint comes from its name, then up to two folders above it."""
    hint = split_from_path(relpath) or split_from_path("/".join(path.parts[-3:]))
    return SourceFile(path, relpath, found[0], found[1], path.stat().st_size, hint)


@dataclass(frozen=True, slots=True)
class RawRow:
    file: SourceFile
    line: int
    data: dict[str, Any]
    whole_file: bool = False  # the file is this one row (one problem per JSON file)

    @property
    def locator(self) -> str:
        """A stable position: the file for one-row files, else file and line."""
        return self.file.relpath if self.whole_file else f"{self.file.relpath}:{self.line}"


@dataclass(frozen=True, slots=True)
class BadRow:
    file: SourceFile
    line: int
    error: str
    raw: str | None = None


Row = RawRow | BadRow


def split_from_path(relpath: str) -> str | None:
    """The split named by a path: the file name first, then the folders nearest to it."""
    parts = Path(relpath).parts
    for part in reversed(parts):
        for token in _SPLIT_TOKEN.findall(Path(part).name.split(".")[0].lower()):
            if token in SPLIT_WORDS:
                return SPLIT_WORDS[token]
    return None


def _format_of(path: Path) -> tuple[str, bool] | None:
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in FORMATS:
        return None
    return FORMATS[suffixes[-1]], compressed


def discover(location: Path) -> list[SourceFile]:
    """The readable files at `location` (a file, or a folder searched recursively), sorted."""
    if not location.exists():
        raise InputError(f"{location}: no such file or folder")
    location = location.resolve()  # absolute once, so no file needs resolving later
    if location.is_file():
        found = _format_of(location)
        if found is None:
            raise InputError(
                f"{location}: unsupported file type (expected one of "
                f"{', '.join(sorted(FORMATS))}, optionally .gz)"
            )
        return [_source_file(location, location.name, found)]
    files = []
    for path in sorted((p for p in location.rglob("*") if p.is_file()), key=str):
        found = _format_of(path)
        if found and not any(part.startswith(".") for part in path.relative_to(location).parts):
            files.append(_source_file(path, path.relative_to(location).as_posix(), found))
    if not files:
        raise InputError(f"{location}: folder holds no JSONL, JSON, Parquet or CSV files")
    return files


def stdin_to_file(directory: Path | None = None) -> Path:
    """Spool stdin to a temporary JSONL file so it can be fingerprinted and re-read on resume."""
    with tempfile.NamedTemporaryFile(
        prefix="srpo-stdin-", suffix=".jsonl", delete=False, dir=directory
    ) as handle:
        while chunk := sys.stdin.buffer.read(1 << 20):
            handle.write(chunk)
    return Path(handle.name)


def fingerprint(files: list[SourceFile]) -> str:
    digest = hashlib.sha256()
    for source_file in files:
        digest.update(source_file.relpath.encode() + b"\0")
        with source_file.path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:32]


def snippet(raw: bytes | str) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text[:RAW_SNIPPET]


def has_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        return any("\udc80" <= ch <= "\udcff" for ch in value)
    if isinstance(value, dict):
        return any(has_surrogates(k) or has_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_surrogates(v) for v in value)
    return False


def not_object(value: Any) -> str:
    kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
    return f"expected a JSON object, got {kind.get(type(value), 'null')}"


def open_binary(source_file: SourceFile) -> tuple[io.BufferedIOBase, io.BufferedIOBase]:
    """(stream to read, raw file) so progress can follow the compressed position."""
    raw = source_file.path.open("rb")
    if source_file.compressed:
        return gzip.GzipFile(fileobj=raw), raw
    return raw, raw


def advance_progress(progress: Progress | None, now: int, before: int) -> int:
    if progress and now > before:
        progress(now - before)
    return max(now, before)
