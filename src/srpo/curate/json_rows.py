"""Reading JSON files: an array of objects (one row per element), an object wrapping one such
array, or a single object per file (Hendrycks MATH).

Elements are decoded one at a time so each row knows the line it starts on, and a malformed
element costs only itself: reading resumes at the next `, {` that decodes. Bad UTF-8 marks only
the elements that contain it. A `.json` file that holds one object per line is read as JSONL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from srpo.curate.jsonl_rows import read_jsonl
from srpo.curate.sources import (
    RAW_SNIPPET,
    BadRow,
    Progress,
    RawRow,
    Row,
    SourceFile,
    has_surrogates,
    not_object,
    open_binary,
    snippet,
)


def _read_text(source_file: SourceFile) -> tuple[str, bool]:
    """Decode the whole file; returns (text, clean). Unclean text keeps bad bytes as surrogates."""
    stream, raw = open_binary(source_file)
    with raw, stream:
        data = stream.read()
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="surrogateescape"), False


class _Lines:
    """Line number of a character offset, for offsets visited in increasing order."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


_WS = re.compile(r"\s*")
_RESYNC = re.compile(r",\s*(?=\{)")


def _array_elements(text: str, start: int) -> Iterator[tuple[int, Any, str | None]]:
    """(offset, value, error) for each element of the array opening at `start`.

    After a malformed element, reading resumes at the next `, {` that decodes, so one broken
    element costs only itself.
    """
    decoder = json.JSONDecoder()
    index = _WS.match(text, start + 1).end()
    if text.startswith("]", index):
        return
    while index < len(text):
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as error:
            yield index, None, f"invalid JSON: {error.msg}"
            resync = _RESYNC.search(text, max(error.pos, index + 1))
            if resync is None:
                return
            index = resync.end()
            continue
        yield index, value, None
        index = _WS.match(text, end).end()
        if text.startswith(",", index):
            index = _WS.match(text, index + 1).end()
        elif text.startswith("]", index):
            return
        else:
            yield index, None, "invalid JSON: expected ',' or ']' after an element"
            resync = _RESYNC.search(text, index)
            if resync is None:
                return
            index = resync.end()


def _wrapped_array(value: dict[str, Any]) -> str | None:
    """The key of the only list-of-objects value in a wrapper such as {"data": [...]}."""
    lists = [k for k, v in value.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
    return lists[0] if len(lists) == 1 and len(value) <= 3 else None


def read_json(source_file: SourceFile, progress: Progress | None = None) -> Iterator[Row]:
    text, clean = _read_text(source_file)
    start = _WS.match(text).end()
    if start == len(text):
        yield BadRow(source_file, 1, "empty file")
        return
    if text[start] == "[":
        yield from _json_array_rows(source_file, text, start, clean)
    else:
        yield from _json_object_rows(source_file, text, start, clean)
    if progress:
        progress(source_file.size)


def _json_array_rows(source_file: SourceFile, text: str, start: int, clean: bool) -> Iterator[Row]:
    lines = _Lines(text)
    for offset, value, error in _array_elements(text, start):
        line = lines.at(offset)
        if error:
            yield BadRow(source_file, line, error, text[offset : offset + RAW_SNIPPET])
        elif not isinstance(value, dict):
            yield BadRow(source_file, line, not_object(value), snippet(json.dumps(value)))
        elif not clean and has_surrogates(value):
            yield BadRow(source_file, line, "invalid UTF-8 in this element", None)
        else:
            yield RawRow(source_file, line, value)


def _json_object_rows(source_file: SourceFile, text: str, start: int, clean: bool) -> Iterator[Row]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg == "Extra data":  # one object per line in a .json file: read it as JSONL
            yield from read_jsonl(source_file)
            return
        yield BadRow(source_file, error.lineno, f"invalid JSON: {error.msg} (column {error.colno})")
        return
    key = _wrapped_array(value)
    if key is not None:
        wrapped_at = text.find(f'"{key}"')
        bracket = text.find("[", wrapped_at)
        yield from _json_array_rows(source_file, text, bracket, clean)
    elif not clean and has_surrogates(value):
        yield BadRow(source_file, 1, "invalid UTF-8 in this file")
    else:
        yield RawRow(source_file, 1, value, whole_file=True)
