"""The frames between srpo and a zygote: JSON written exactly as `json.dumps` writes it, read back
as `json.loads` reads it, with bad frames refused."""

from __future__ import annotations

import json
import os

import pytest

from srpo.sandbox.inside import frames

VALUES = [
    {"outcome": "exited", "wall_s": 0.001234, "cpu_s": 1e-06, "signal": None, "stdout_truncated": False},
    {"text": 'é ✓ \u2028 "quoted" \\ \n\t\x00', "lone surrogate": "\ud800", "big": 2**80, "neg": -0.0},
    {"floats": [float("nan"), float("inf"), -float("inf"), 1e300, 0.1]},
    [[], {}, [{"nested": [None, True, 1, "x"]}]],
    "plain",
    7,
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_frames_encode_as_json_dumps_and_decode_as_json_loads(value):
    text = frames.encode_json(value)
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert repr(frames.decode_json(text)) == repr(json.loads(text))
    reader, writer = os.pipe()
    frames.write_frame(writer, value)
    os.close(writer)
    assert repr(frames.read_frame(reader)) == repr(json.loads(text))
    assert frames.read_frame(reader) is None  # a clean end of the stream
    os.close(reader)


@pytest.mark.parametrize("text", ["", "[1,", '{"a": 1} 2', "{} ", "nul"])
def test_a_frame_that_is_not_one_json_value_is_refused(text):
    with pytest.raises(json.JSONDecodeError):
        frames.decode_json(text)


def test_values_json_cannot_hold_are_refused_by_name():
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        frames.encode_frame({"cases": {1, 2}})
