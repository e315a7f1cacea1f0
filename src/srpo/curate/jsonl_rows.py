"""Reading JSONL files (also gzipped, also stdin spooled to a file): one row per line.

A line that is not UTF-8, not JSON or not an object is a `BadRow` with its line number; a
truncated gzip stream ends the file with one `BadRow` saying after which line.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator

from srpo.curate.sources import (
    RAW_SNIPPET,
    BadRow,
    Progress,
    RawRow,
    Row,
    SourceFile,
    advance_progress,
    not_object,
    open_binary,
    snippet,
)


def _jsonl_line(source_file: SourceFile, number: int, line: bytes) -> Row | None:
    stripped = line.strip()
    if not stripped:
        return None
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError as error:
        return BadRow(source_file, number, f"invalid UTF-8 at byte {error.start}", snippet(stripped))
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return BadRow(
            source_file, number, f"invalid JSON: {error.msg} (column {error.colno})", text[:RAW_SNIPPET]
        )
    if not isinstance(value, dict):
        return BadRow(source_file, number, not_object(value), text[:RAW_SNIPPET])
    return RawRow(source_file, number, value)


def read_jsonl(source_file: SourceFile, progress: Progress | None = None) -> Iterator[Row]:
    stream, raw = open_binary(source_file)
    position, number = 0, 0
    with raw, stream:
        try:
            for number, line in enumerate(stream, start=1):
                row = _jsonl_line(source_file, number, line)
                if row is not None:
                    yield row
                if progress and number % 256 == 0:
                    position = advance_progress(progress, raw.tell(), position)
        except (EOFError, OSError, zlib.error) as error:
            yield BadRow(source_file, number + 1, f"corrupt or truncated file after line {number}: {error}")
        advance_progress(progress, source_file.size, position)
