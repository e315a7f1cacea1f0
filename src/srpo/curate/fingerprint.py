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
    number_signature,
    shingle_hashes,
    shingle_hashes_many,
    tokens,
    words_and_numbers,
)

_FNV_PRIME = np.uint64(0x100000001B3)
_SIGNATURE_CHUNK = 64  # documents per vectorised step: bounds the (shingles x permutations) matrix


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
    """MinHash signatures (n, num_perm) of pre-hashed 32-bit shingle sets.

    datasketch's MinHash (its default `affine32` scheme: permutations from `MinHash(seed)`, the
    murmur3 finalizer, then `a * h + b`) computed for many documents at once: `MinHash.bulk`
    still updates one document at a time, which costs most of a near-duplicate check. The
    result is identical to `MinHash.bulk` (tests/test_fingerprint.py checks it); if datasketch
    changes its scheme, this falls back to `MinHash.bulk`.
    """
    if not shingle_sets:
        return np.empty((0, config.num_perm), dtype=np.uint32)
    try:
        from datasketch.minhash import _SCHEME_MAX_HASHES, MinHash, _fmix
    except ImportError:
        return _datasketch_signatures(shingle_sets, config)
    template = MinHash(num_perm=config.num_perm, seed=config.seed)
    if getattr(template, "scheme", None) != "affine32":
        return _datasketch_signatures(shingle_sets, config)
    a, b = (np.asarray(p, dtype=np.uint32) for p in template.permutations)
    result = np.full((len(shingle_sets), config.num_perm), _SCHEME_MAX_HASHES["affine32"], dtype=np.uint32)
    sizes = np.array([len(s) for s in shingle_sets])
    for start in range(0, len(shingle_sets), _SIGNATURE_CHUNK):
        chunk = [s for s in shingle_sets[start : start + _SIGNATURE_CHUNK] if len(s)]
        rows = np.flatnonzero(sizes[start : start + _SIGNATURE_CHUNK]) + start
        if not chunk:
            continue
        mixed = _fmix(np.concatenate(chunk).astype(np.uint32), 32)
        with np.errstate(over="ignore"):
            permuted = mixed[:, None] * a + b  # uint32 arithmetic wraps, as datasketch's does
        offsets = np.concatenate([[0], np.cumsum([len(s) for s in chunk])[:-1]])
        result[rows] = np.minimum.reduceat(permuted, offsets, axis=0)
    return result


def fingerprints(problems: Sequence[Problem], config: DedupConfig) -> list[Fingerprint]:
    texts = [canonical(p.question) for p in problems]
    shingle_sets = shingle_hashes_many(
        [tokens(text, is_canonical=True) for text in texts], config.shingle_size
    )
    qkeys = [question_key(p.domain, text, is_canonical=True) for p, text in zip(problems, texts, strict=True)]
    bands, rows = lsh_shape(config.threshold, config.num_perm)
    buckets = band_buckets(signatures(shingle_sets, config), bands, rows) if problems else None
    return [
        Fingerprint(
            key=(p.source, p.split, p.source_index),
            domain=p.domain,
            problem_id=p.problem_id,
            exact_key=digest(qkey, canonical(p.answer or "").replace(" ", "")),
            question_key=qkey,
            numbers=number_signature(text, is_canonical=True),
            shingles=shingles,
            buckets=buckets[i].tolist(),
        )
        for i, (p, text, shingles, qkey) in enumerate(zip(problems, texts, shingle_sets, qkeys, strict=True))
    ]


def ngram_hashes(question: str, size: int) -> set[int]:
    """64-bit hashes of the word n-grams of a question (the whole text when it is shorter)."""
    words = words_and_numbers(question)
    if not words:
        return set()
    spans = [words] if len(words) <= size else [words[i : i + size] for i in range(len(words) - size + 1)]
    return {int(digest(" ".join(span)), 16) for span in spans}
