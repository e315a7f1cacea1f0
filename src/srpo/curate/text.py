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

import numpy as np

# LaTeX spacing and layout commands and maths delimiters: none of them changes a problem.
_LAYOUT = re.compile(
    r"\\[,;:!> ]|\\(?:quad|qquad|displaystyle|textstyle|left|right)(?![a-zA-Z])|~|\$+|\\[()\[\]]"
)
_THOUSANDS = re.compile(r"(?<=\d)(?:,|\{,\})(?=\d{3}(?!\d))")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"\\[a-zA-Z]+|[a-z]+|\d+(?:\.\d+)?|[^\sa-z\d]")
_WORD_OR_NUMBER = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OPERATOR = re.compile(r"[+=<>]|(?<![a-z])-|\\(?:le|ge|leq|geq|neq|pm|mp|times|div|cdot)(?![a-z])")
MASK32 = np.uint64(0xFFFFFFFF)
_FOLD = np.uint64(1000003)


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


_NUMBER_OR_OPERATOR = re.compile(f"{_NUMBER.pattern}|{_OPERATOR.pattern}")


def number_signature(text: str, *, is_canonical: bool = False) -> str:
    """The numbers and operators of a text, in order, as one string."""
    return " ".join(_NUMBER_OR_OPERATOR.findall(text if is_canonical else canonical(text)))


def digest(*parts: str, size: int = 16) -> str:
    joined = "\x00".join(parts)
    return hashlib.blake2b(joined.encode("utf-8"), digest_size=size // 2).hexdigest()


_TOKEN_HASHES: dict[str, int] = {}


def _token_hashes(token_list: list[str]) -> np.ndarray:
    """crc32 of each token, memoised: a corpus repeats the same few thousand words."""
    cache = _TOKEN_HASHES
    if len(cache) > 2_000_000:
        cache.clear()
    found = [cache.get(token) for token in token_list]
    if not found:
        return np.empty(0, dtype=np.uint64)
    for index, value in enumerate(found):
        if value is None:
            token = token_list[index]
            found[index] = cache[token] = zlib.crc32(token.encode("utf-8"))
    return np.array(found, dtype=np.uint64)


def _fold(hashed: np.ndarray, size: int) -> np.ndarray:
    grams = []
    for width in range(1, min(size, len(hashed)) + 1):
        folded = np.full(len(hashed) - width + 1, width, dtype=np.uint64)
        for offset in range(width):
            folded = (folded * _FOLD + hashed[offset : offset + len(folded)]) & MASK32
        grams.append(folded)
    return np.unique(np.concatenate(grams).astype(np.uint32))


def shingle_hashes(token_list: list[str], size: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of every token n-gram of length 1 to `size`.

    Short n-grams keep a one-word change from moving a 20-word problem below the threshold;
    numbers and operators are tokens, so they take part. Tokens are hashed once (crc32,
    memoised) and n-grams fold their tokens' hashes with numpy.
    """
    if not token_list:
        return np.empty(0, dtype=np.uint32)
    return _fold(_token_hashes(token_list), size)


def shingle_hashes_many(token_lists: list[list[str]], size: int) -> list[np.ndarray]:
    """`shingle_hashes` of many texts (per text: one big sort across texts measured slower)."""
    return [shingle_hashes(token_list, size) for token_list in token_lists]


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays."""
    if not len(first) and not len(second):
        return 1.0
    shared = len(np.intersect1d(first, second, assume_unique=True))
    return shared / (len(first) + len(second) - shared)
