"""Length-prefixed JSON frames on raw file descriptors: the only channel between srpo and a zygote.

Raw `os.read`/`os.write` on purpose: buffered Python streams would leave bytes in a buffer that a
forked child inherits.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 512 << 20


# One encoder for every frame: `json.dumps` with options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_frame(value: Any) -> bytes:
    data = _ENCODE(value).encode("utf-8", "surrogatepass")
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
    return json.loads(data.decode("utf-8", "surrogatepass"))
