"""Text primitives: the fast patterns match what their comments say, and the batch shingling
equals shingling each text on its own."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from srpo.curate.text import (
    canonical,
    number_signature,
    shingle_hashes,
    shingle_hashes_flat,
    shingle_hashes_many,
    tokens,
)

# The patterns as their comments state them, written the plain way (slower in `re`).
LAYOUT = re.compile(
    r"\\[,;:!> ]|\\(?:quad|qquad|displaystyle|textstyle|left|right)(?![a-zA-Z])|~|\$+|\\[()\[\]]"
)
THOUSANDS = re.compile(r"(?<=\d)(?:,|\{,\})(?=\d{3}(?!\d))")
NUMBER_OR_OPERATOR = re.compile(
    r"\d+(?:\.\d+)?|[+=<>]|(?<![a-z])-|\\(?:le|ge|leq|geq|neq|pm|mp|times|div|cdot)(?![a-z])"
)
PIECES = [*"ab \\$~,{}.-+=<>0123456789x()[]", "٣", "\\le", "\\leq", "\\leqslant", "\\quad", "\\qquad",
          "\\left", "\\leftarrow", "\\right", "{,}", "\\times", "\\timesx", "\\,", "\\!", "\\ ", "$$",
          "1,000", "q-", "Ⅻ", "\\cdot", "3.5.6", "é-1"]  # fmt: skip


def plain_canonical(text: str) -> str:
    import unicodedata

    text = LAYOUT.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return " ".join(THOUSANDS.sub("", text).split())


def fuzzed(count: int) -> list[str]:
    rng = random.Random(7)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 30))) for _ in range(count)]


def test_canonical_and_number_signature_match_the_plain_patterns():
    texts = [*fuzzed(20_000), "Find $x$ if $3x - 1 \\leq 1{,}000$ and $y\\,=\\,2,500$.", "x-1", "-1"]
    for text in texts:
        assert canonical(text) == plain_canonical(text), text
        expected = " ".join(NUMBER_OR_OPERATOR.findall(plain_canonical(text)))
        assert number_signature(text) == expected, text


def test_number_signature_examples():
    assert number_signature("If $x-3 = 12{,}000$ and $y \\le -2.5$") == "3 = 12000 \\le - 2.5"
    assert number_signature("\\leqslant 4 \\times 5") == "4 \\times 5"


def reference_shingles(words: list[str], size: int) -> np.ndarray:
    """Each n-gram's hash folded token by token, as the docstring of `shingle_hashes` says."""
    import zlib

    hashed = [zlib.crc32(w.encode("utf-8")) for w in words]
    found = set()
    for width in range(1, size + 1):
        for start in range(len(words) - width + 1):
            value = width
            for h in hashed[start : start + width]:
                value = (value * 1000003 + h) & 0xFFFFFFFF
            found.add(value)
    return np.array(sorted(found), dtype=np.uint32)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_batch_shingles_equal_one_text_at_a_time(size):
    texts = [*fuzzed(300), "", "x", "a b", "What is 2 + 2 ?"]
    token_lists = [tokens(text) for text in texts]
    batch = shingle_hashes_many(token_lists, size)
    flat, offsets = shingle_hashes_flat(token_lists, size)
    assert len(batch) == len(texts) and len(offsets) == len(texts) + 1
    for words, shingles, start, end in zip(token_lists, batch, offsets[:-1], offsets[1:], strict=True):
        expected = reference_shingles(words, size)
        assert shingles.dtype == np.uint32
        assert np.array_equal(shingles, expected), words
        assert np.array_equal(shingle_hashes(words, size), expected)
        assert np.array_equal(flat[start:end], expected)


def test_no_texts_and_empty_texts():
    flat, offsets = shingle_hashes_flat([], 2)
    assert len(flat) == 0 and offsets.tolist() == [0]
    assert [len(s) for s in shingle_hashes_many([[], ["a"], []], 2)] == [0, 1, 0]
