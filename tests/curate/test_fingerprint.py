"""Fingerprints: datasketch's own signatures, computed for a batch at once; the memo of
questions changes nothing but the time."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from srpo.catalog.records import Problem
from srpo.curate.config import DedupConfig
from srpo.curate.fingerprint import band_buckets, fingerprints, forget_memos, lsh_shape, signatures
from srpo.curate.text import shingle_hashes_many, tokens
from srpo.testing.perturb import perturb

QUESTIONS = [
    "A farmer has 17 sheep and buys 8 more each week for 6 weeks. How many sheep are there?",
    "Let $f(x) = 3x^2 + 2x - 5$. Find the sum of the roots of $f(x) = 0$.",
    "How many positive integers less than 1000 are divisible by 7 but not by 11?",
    "",
    "?",
]


def test_signatures_equal_datasketch_bulk():
    config = DedupConfig()
    texts = QUESTIONS + [perturb(q, seed) for seed, q in enumerate(QUESTIONS * 40)]
    shingle_sets = shingle_hashes_many([tokens(t) for t in texts], config.shingle_size)
    expected = MinHash.bulk(
        (s.tolist() for s in shingle_sets), num_perm=config.num_perm, seed=config.seed, hashfunc=int
    )
    assert np.array_equal(signatures(shingle_sets, config), np.vstack([m.hashvalues for m in expected]))


def test_signatures_of_nothing():
    assert signatures([], DedupConfig()).shape == (0, 128)


def problems_of(texts: list[str], source: str) -> list[Problem]:
    made = [Problem(source=source, split="train", source_index=str(i), domain="math", question=text,
                    answer="1", row_hash=str(i)) for i, text in enumerate(texts)]  # fmt: skip
    for problem in made:
        problem.refresh_id()
    return made


def test_memoised_questions_give_the_same_fingerprints():
    config = DedupConfig()
    texts = QUESTIONS + [perturb(q, seed) for seed, q in enumerate(QUESTIONS * 3)]
    forget_memos()
    cold = fingerprints(problems_of(texts, "a"), config)
    warm = fingerprints(problems_of(texts[::-1], "b"), config)[::-1]  # every question memoised
    bands, rows = lsh_shape(config.threshold, config.num_perm)
    shingle_sets = shingle_hashes_many([tokens(t) for t in texts], config.shingle_size)
    buckets = band_buckets(signatures(shingle_sets, config), bands, rows)
    for first, second, shingles, row in zip(cold, warm, shingle_sets, buckets, strict=True):
        assert np.array_equal(first.shingles, shingles) and np.array_equal(second.shingles, shingles)
        assert first.buckets == second.buckets == row.tolist()
        assert (first.numbers, first.question_key, first.exact_key) == (
            second.numbers, second.question_key, second.exact_key
        )  # fmt: skip
    assert not cold[0].shingles.flags.writeable  # shared between fingerprints: read-only
