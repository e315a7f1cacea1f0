"""Fingerprints of problems for duplicate and contamination checks.

A fingerprint holds the exact keys (canonical question, with and without the answer), the
number signature, the shingle set and the MinHash LSH band buckets. Signatures come from
datasketch's bulk path (`MinHash.bulk`) over stable 32-bit shingle hashes, and the bands use
the (bands, rows) split datasketch's `MinHashLSH` chooses for the threshold, so the buckets can
live in the catalog and be joined in SQL instead of being rebuilt in memory for every ingest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from srpo.catalog.records import Problem
from srpo.curate.config import DedupConfig
from srpo.curate.text import (
    canonical,
    digest,
    forget_token_hashes,
    number_signature,
    shingle_hashes,
    shingle_hashes_flat,
    tokens,
    words_and_numbers,
)

_FNV_PRIME = np.uint64(0x100000001B3)
_SIGNATURE_CHUNK = 16_384  # shingles per vectorised step: bounds the (permutations x shingles) matrix


@dataclass(frozen=True, slots=True)
class Fingerprint:
    key: tuple[str, str, str]
    domain: str
    problem_id: str
    exact_key: str
    question_key: str
    numbers: str
    shingles: np.ndarray  # sorted unique uint32 shingle hashes
    buckets: list[int]


_SHAPES: dict[tuple[float, int], tuple[int, int]] = {}


def lsh_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that datasketch picks for this threshold and permutation count.

    datasketch finds them by numerical integration (most of a second), so the catalog stores
    them with its settings and `remember_shape` seeds this cache from there.
    """
    if (threshold, num_perm) not in _SHAPES:
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        _SHAPES[(threshold, num_perm)] = (lsh.b, lsh.r)
    return _SHAPES[(threshold, num_perm)]


def remember_shape(threshold: float, num_perm: int, shape: tuple[int, int]) -> None:
    _SHAPES[(threshold, num_perm)] = shape


def question_key(domain: str, question: str, *, is_canonical: bool = False) -> str:
    text = question if is_canonical else canonical(question)
    return digest(domain, text.replace(" ", ""))


def exact_key(domain: str, question: str, answer: str | None, *, is_canonical: bool = False) -> str:
    """Same question and same answer: built on the question key, so the text is hashed once."""
    return digest(
        question_key(domain, question, is_canonical=is_canonical), canonical(answer or "").replace(" ", "")
    )


def shingles_of(question: str, config: DedupConfig, *, is_canonical: bool = False) -> np.ndarray:
    return shingle_hashes(tokens(question, is_canonical=is_canonical), config.shingle_size)


def band_buckets(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64 bucket ids: each band's `rows` signature values folded with FNV-1a."""
    folded = np.zeros((signatures.shape[0], bands), dtype=np.uint64)
    values = signatures[:, : bands * rows].astype(np.uint64).reshape(-1, bands, rows)
    with np.errstate(over="ignore"):
        for column in range(rows):
            folded = (folded ^ values[:, :, column]) * _FNV_PRIME
    return folded


def _datasketch_signatures(shingle_sets: Sequence[np.ndarray], config: DedupConfig) -> np.ndarray:
    from datasketch import MinHash

    minhashes = MinHash.bulk(
        (s.tolist() for s in shingle_sets), num_perm=config.num_perm, seed=config.seed, hashfunc=int
    )
    return np.vstack([m.hashvalues for m in minhashes])


def signatures(shingle_sets: Sequence[np.ndarray], config: DedupConfig) -> np.ndarray:
    """MinHash signatures (n, num_perm) of pre-hashed 32-bit shingle sets: see `signatures_flat`."""
    sizes = np.fromiter(map(len, shingle_sets), dtype=np.int64, count=len(shingle_sets))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    flat = np.concatenate(shingle_sets) if len(shingle_sets) else np.empty(0, dtype=np.uint32)
    return signatures_flat(flat.astype(np.uint32, copy=False), offsets, config)


def signatures_flat(flat: np.ndarray, offsets: np.ndarray, config: DedupConfig) -> np.ndarray:
    """MinHash signatures (n, num_perm) of n shingle sets lying end to end in `flat` (uint32),
    set i being `flat[offsets[i]:offsets[i + 1]]`.

    datasketch's MinHash (its default `affine32` scheme: permutations from `MinHash(seed)`, the
    murmur3 finalizer, then `a * h + b`) computed for many documents at once: `MinHash.bulk`
    still updates one document at a time, which costs most of a near-duplicate check. The
    result is identical to `MinHash.bulk` (tests/curate/test_fingerprint.py checks it); if
    datasketch changes its scheme, this falls back to `MinHash.bulk`.
    """
    count = len(offsets) - 1
    if count <= 0:
        return np.empty((0, config.num_perm), dtype=np.uint32)
    try:
        from datasketch.minhash import _SCHEME_MAX_HASHES, MinHash, _fmix
    except ImportError:
        return _datasketch_signatures(_split(flat, offsets), config)
    template = MinHash(num_perm=config.num_perm, seed=config.seed)
    if getattr(template, "scheme", None) != "affine32":
        return _datasketch_signatures(_split(flat, offsets), config)
    a, b = (np.asarray(p, dtype=np.uint32)[:, None] for p in template.permutations)
    result = np.full((count, config.num_perm), _SCHEME_MAX_HASHES["affine32"], dtype=np.uint32)
    mixed = _fmix(flat.astype(np.uint32), 32)
    filled = np.flatnonzero(np.diff(offsets))  # an empty set keeps datasketch's empty signature
    for rows in _chunks(filled, offsets):
        low, high = offsets[rows[0]], offsets[rows[-1] + 1]
        # (permutations, shingles): each set's minimum is then a reduction along contiguous
        # memory, several times faster than reducing (shingles, permutations) over rows.
        permuted = a * mixed[low:high]  # uint32 arithmetic wraps, as datasketch's does
        permuted += b
        result[rows] = np.minimum.reduceat(permuted, offsets[rows] - low, axis=1).T
    return result


def _chunks(rows: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """`rows` in runs of about `_SIGNATURE_CHUNK` shingles, so the (permutations x shingles)
    matrix stays a few MiB (in cache) whatever the batch size."""
    if not len(rows):
        return []
    run = (offsets[rows] - offsets[rows[0]]) // _SIGNATURE_CHUNK
    return np.split(rows, np.flatnonzero(np.diff(run)) + 1)


def _split(flat: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [flat[start:end] for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]


@dataclass(frozen=True, slots=True)
class _TextPrint:
    """What a fingerprint takes from the canonical question alone."""

    numbers: str
    shingles: np.ndarray
    buckets: list[int]


# Canonical question -> its _TextPrint, per (shingle size, permutations, seed, bands, rows).
# The same question often comes again in a later batch (the same MATH problem ships in several
# files; reworded copies that only differ in spacing); its shingles and signature are not
# computed twice. Bounded: cleared when it passes _MEMO_LIMIT questions.
_MEMO: dict[tuple[int, int, int, int, int], dict[str, _TextPrint]] = {}
_MEMO_LIMIT = 100_000


def forget_memos() -> None:
    """Empty the memos of questions and token hashes, as in a fresh process: a benchmark round
    that repeats the same problems must not find them computed by the round before."""
    _MEMO.clear()
    forget_token_hashes()


def _text_prints(texts: Sequence[str], config: DedupConfig) -> list[_TextPrint]:
    bands, rows = lsh_shape(config.threshold, config.num_perm)
    memo = _MEMO.setdefault((config.shingle_size, config.num_perm, config.seed, bands, rows), {})
    if len(memo) > _MEMO_LIMIT:
        memo.clear()
    new = list(dict.fromkeys(text for text in texts if text not in memo))
    if new:
        token_lists = [tokens(text, is_canonical=True) for text in new]
        flat, offsets = shingle_hashes_flat(token_lists, config.shingle_size)
        flat.flags.writeable = False  # shared by every fingerprint of the same question
        buckets = band_buckets(signatures_flat(flat, offsets, config), bands, rows).tolist()
        bounds = offsets.tolist()
        for i, text in enumerate(new):
            shingles = flat[bounds[i] : bounds[i + 1]]
            memo[text] = _TextPrint(number_signature(text, is_canonical=True), shingles, buckets[i])
    return [memo[text] for text in texts]


def fingerprints(problems: Sequence[Problem], config: DedupConfig) -> list[Fingerprint]:
    texts = [canonical(p.question) for p in problems]
    prints = []
    for problem, text, text_print in zip(problems, texts, _text_prints(texts, config), strict=True):
        qkey = question_key(problem.domain, text, is_canonical=True)
        answer = problem.answer
        prints.append(Fingerprint(
            key=(problem.source, problem.split, problem.source_index), domain=problem.domain,
            problem_id=problem.problem_id, question_key=qkey,
            exact_key=digest(qkey, canonical(answer).replace(" ", "") if answer else ""),
            numbers=text_print.numbers, shingles=text_print.shingles, buckets=text_print.buckets,
        ))  # fmt: skip
    return prints


def ngram_hashes(question: str, size: int) -> set[int]:
    """64-bit hashes of the word n-grams of a question (the whole text when it is shorter)."""
    words = words_and_numbers(question)
    if not words:
        return set()
    spans = [words] if len(words) <= size else [words[i : i + size] for i in range(len(words) - size + 1)]
    return {int(digest(" ".join(span)), 16) for span in spans}
