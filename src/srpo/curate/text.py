"""Text primitives shared by cleaning, deduplication and decontamination.

`canonical` folds the differences that never make two problems different (Unicode forms, case,
whitespace, LaTeX spacing commands, `$` delimiters, thousands separators). `tokens` splits
canonical text into words, numbers, LaTeX commands and single maths symbols, so shingles keep
digits and operators. `number_signature` is the ordered list of numbers and operators: two
texts that differ in it are different problems however similar their words are.
All hashes are stable across processes (crc32 based), so stored signatures stay valid.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from itertools import chain

import numpy as np

# The patterns below are written so that each match starts with one of a few characters (a
# literal or a class first): Python's `re` then skips ahead to those characters in C instead of
# trying every alternative at every position, 3-4 times faster on problem texts. What each one
# matches is given in the comment above it (tests/curate/test_text.py checks them against those).

# LaTeX spacing and layout commands and maths delimiters: none of them changes a problem.
# A backslash and one of `,;:!> ()[]`; `\quad`, `\qquad`, `\displaystyle`, `\textstyle`,
# `\left`, `\right` not followed by a letter; `~`; a run of `$`.
_LAYOUT = re.compile(
    r"\\(?:[,;:!> ()\[\]]|(?:quad|qquad|displaystyle|textstyle|left|right)(?![a-zA-Z]))|~|\$\$*"
)
# `,` or `{,}` between a digit and exactly three digits.
_THOUSANDS = re.compile(r"(?:,(?<=\d,)|\{,\}(?<=\d\{,\}))(?=\d{3}(?!\d))")
_TOKEN = re.compile(r"\\[a-zA-Z]+|[a-z]+|\d+(?:\.\d+)?|[^\sa-z\d]")
_WORD_OR_NUMBER = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
# Numbers `\d+(?:\.\d+)?` and operators: `+ = < >`, `-` not after a letter, `\le \ge \leq \geq
# \neq \pm \mp \times \div \cdot` not followed by a letter.
_NUMBER_OR_OPERATOR = re.compile(
    r"[\d+=<>\\-](?:(?<=\d)\d*(?:\.\d+)?|(?<=[+=<>])|(?<=-)(?<![a-z]-)"
    r"|(?<=\\)(?:le|ge|leq|geq|neq|pm|mp|times|div|cdot)(?![a-z]))"
)
MASK32 = np.uint64(0xFFFFFFFF)
_FOLD = np.uint64(1000003)
_TEXT_SHIFT = np.uint64(32)  # (text, hash) pairs: the text index above the 32-bit hash


def canonical(text: str) -> str:
    if not text.isascii():  # ASCII is already NFKC: most problems skip the normalisation
        text = unicodedata.normalize("NFKC", text)
    text = _LAYOUT.sub(" ", text.lower())
    if "," in text:
        text = _THOUSANDS.sub("", text)
    return " ".join(text.split())


def tokens(text: str, *, is_canonical: bool = False) -> list[str]:
    """Words, numbers, LaTeX commands and single symbols of the canonical text."""
    return _TOKEN.findall(text if is_canonical else canonical(text))


def words_and_numbers(text: str) -> list[str]:
    return _WORD_OR_NUMBER.findall(canonical(text))


def number_signature(text: str, *, is_canonical: bool = False) -> str:
    """The numbers and operators of a text, in order, as one string."""
    return " ".join(_NUMBER_OR_OPERATOR.findall(text if is_canonical else canonical(text)))


def digest(*parts: str, size: int = 16) -> str:
    joined = "\x00".join(parts)
    return hashlib.blake2b(joined.encode("utf-8"), digest_size=size // 2).hexdigest()


_TOKEN_HASHES: dict[str, int] = {}


def _token_hashes(token_list: list[str]) -> np.ndarray:
    """crc32 of each token, memoised: a corpus repeats the same few thousand words, so only the
    new ones are hashed in Python and the lookup of all of them runs in C (`map`, `fromiter`)."""
    cache = _TOKEN_HASHES
    if len(cache) > 2_000_000:
        cache.clear()
    for token in set(token_list).difference(cache):
        cache[token] = zlib.crc32(token.encode("utf-8"))
    return np.fromiter(map(cache.__getitem__, token_list), dtype=np.uint64, count=len(token_list))


def forget_token_hashes() -> None:
    """Empty the token-hash memo (a benchmark round starts as a fresh process would)."""
    _TOKEN_HASHES.clear()


def shingle_hashes(token_list: list[str], size: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of every token n-gram of length 1 to `size`.

    Short n-grams keep a one-word change from moving a 20-word problem below the threshold;
    numbers and operators are tokens, so they take part. Tokens are hashed once (crc32,
    memoised) and n-grams fold their tokens' hashes with numpy.
    """
    return shingle_hashes_flat([token_list], size)[0]


def shingle_hashes_many(token_lists: list[list[str]], size: int) -> list[np.ndarray]:
    """`shingle_hashes` of many texts (views into one array: see `shingle_hashes_flat`)."""
    flat, offsets = shingle_hashes_flat(token_lists, size)
    return [flat[start:end] for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]


def shingle_hashes_flat(token_lists: list[list[str]], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every text's `shingle_hashes`, one after the other in one uint32 array, and the (n + 1)
    offsets where each text's run starts (text i is `flat[offsets[i]:offsets[i + 1]]`).

    All texts are folded at once: the tokens of the batch lie end to end, an n-gram is kept when
    it ends inside its own text, and one sort of (text, hash) pairs gives every text's sorted
    unique hashes. Per-text numpy calls cost more than the arithmetic for 60-token problems.
    """
    count = len(token_lists)
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=count)
    hashed = _token_hashes(list(chain.from_iterable(token_lists)))
    total = len(hashed)
    text_of = np.repeat(np.arange(count, dtype=np.uint64), lengths)
    text_end = np.repeat(np.cumsum(lengths), lengths)  # one past each token's text's last token
    pairs = []
    for width in range(1, size + 1):
        starts = total - width + 1
        if starts <= 0:
            break
        folded = np.full(starts, width, dtype=np.uint64)
        for offset in range(width):
            folded = (folded * _FOLD + hashed[offset : offset + starts]) & MASK32
        inside = np.arange(width, starts + width) <= text_end[:starts]
        pairs.append((text_of[:starts][inside] << _TEXT_SHIFT) | folded[inside])
    ordered = _sorted_unique(np.concatenate(pairs) if pairs else np.empty(0, dtype=np.uint64))
    offsets = np.searchsorted(ordered >> _TEXT_SHIFT, np.arange(count + 1, dtype=np.uint64))
    return (ordered & MASK32).astype(np.uint32), offsets


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique` by sorting: numpy 2's hash-based `unique` is many times slower on large arrays."""
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays."""
    if not len(first) and not len(second):
        return 1.0
    shared = len(np.intersect1d(first, second, assume_unique=True))
    return shared / (len(first) + len(second) - shared)
