"""Length-prefixed JSON frames on raw file descriptors: the only channel between srpo and a zygote.

Raw `os.read`/`os.write` on purpose: buffered Python streams would leave bytes in a buffer that a
forked child inherits.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 512 << 20


def _not_serializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _frame_encoder() -> Callable[[Any], str]:
    """JSON text as `json.dumps(value, ensure_ascii=False, separators=(",", ":"))` writes it.

    One C encoder made once: `json.dumps` and `JSONEncoder.encode` make a new one, and a dict to
    detect cycles, at every call (frames never hold a cycle). In a zygote, where every page
    written after a fork is copied, that is about a third of what encoding an answer costs."""
    make = json.encoder.c_make_encoder
    if make is None:  # no C accelerator: the standard library's encoder
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
    # The arguments `JSONEncoder.iterencode` passes: markers, default, string encoder, indent,
    # key separator, item separator, sort_keys, skipkeys, allow_nan.
    chunks = make(None, _not_serializable, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda value: "".join(chunks(value, 0))


def _frame_decoder() -> Callable[[str], Any]:
    """`json.loads` for a frame's text (no whitespace around it): the decoder's C scanner called
    directly, without the Python-level wrapping `json.loads` adds to each call."""
    scan = json.decoder.JSONDecoder().scan_once

    def decode(text: str) -> Any:
        try:
            value, end = scan(text, 0)
        except StopIteration as error:
            raise json.JSONDecodeError("Expecting value", text, error.value) from None
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
        return value

    return decode


encode_json, decode_json = _frame_encoder(), _frame_decoder()


def encode_frame(value: Any) -> bytes:
    data = encode_json(value).encode("utf-8", "surrogatepass")
    return HEADER.pack(len(data)) + data


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_frame(fd: int, value: Any) -> None:
    write_all(fd, encode_frame(value))


def read_exact(fd: int, size: int) -> bytes | None:
    """`size` bytes, or None at end of file before the first byte; a short read raises EOFError."""
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            if missing == size:
                return None
            raise EOFError(f"frame cut short: {missing} of {size} bytes missing")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int = MAX_FRAME) -> Any:
    """The next frame's value, or None at a clean end of file."""
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise ValueError(f"frame of {size} bytes is over the {limit}-byte limit")
    data = read_exact(fd, size) if size else b""
    if data is None:
        raise EOFError("frame body missing")
    return decode_json(data.decode("utf-8", "surrogatepass"))
