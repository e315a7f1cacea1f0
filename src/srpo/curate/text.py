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

_LATEX_SPACING = re.compile(r"\\[,;:!> ]|\\(?:quad|qquad|displaystyle|textstyle|left|right)(?![a-zA-Z])|~")
_DOLLARS = re.compile(r"\$+|\\[()\[\]]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"\\[a-zA-Z]+|[a-z]+|\d+(?:\.\d+)?|[^\sa-z\d]")
_WORD_OR_NUMBER = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OPERATOR = re.compile(r"[+=<>]|(?<![a-z])-|\\(?:le|ge|leq|geq|neq|pm|mp|times|div|cdot)(?![a-z])")
MASK32 = np.uint64(0xFFFFFFFF)
_FOLD = np.uint64(1000003)


def canonical(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _LATEX_SPACING.sub(" ", text)
    text = _DOLLARS.sub(" ", text)
    text = _THOUSANDS.sub("", text)
    return _SPACES.sub(" ", text).strip()


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


def shingle_hashes(token_list: list[str], size: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of the `size`-token shingles (one for a shorter text).

    Each token is hashed once (crc32) and shingles fold their tokens' hashes with numpy, so a
    problem costs one C call per token rather than one per shingle.
    """
    if not token_list:
        return np.empty(0, dtype=np.uint32)
    hashed = np.fromiter((zlib.crc32(t.encode("utf-8")) for t in token_list), dtype=np.uint64, count=len(token_list))
    width = min(size, len(hashed))
    folded = np.zeros(len(hashed) - width + 1, dtype=np.uint64)
    for offset in range(width):
        folded = (folded * _FOLD + hashed[offset : offset + len(folded)]) & MASK32
    return np.unique(folded.astype(np.uint32))


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays."""
    if not len(first) and not len(second):
        return 1.0
    shared = len(np.intersect1d(first, second, assume_unique=True))
    return shared / (len(first) + len(second) - shared)
