"""Near-duplicate detection throughput: srpo's path against a per-document datasketch loop.

Synthesises N problems (default 100,000) from every question in ../shared/data: the originals
plus perturbed copies (whitespace, punctuation, LaTeX spacing, one changed word). Then, on the
same problems and the same shingles:

- srpo: `fingerprints` (datasketch's MinHash computed for a batch at once, LSH bands folded
  with numpy) and `deduplicate` against a DuckDB catalog (bucket joins in SQL, exact Jaccard
  re-check, number rule, the LSH buckets written to the catalog), batch by batch as an ingest
  does; storing the problem rows themselves is timed apart, since the peer stores nothing;
- peer: the straightforward loop: one `MinHash` per document updated shingle by shingle, then
  `MinHashLSH.query` and `insert`, in memory (no re-check, nothing stored).

Prints problems/s for both, how many duplicates each found, and `ratio dedup` (srpo / peer).

Usage: just bench dedup [--problems N] [--peer-sample N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report, shared_data_or_exit

BATCH = 5000
SOURCES = [
    ("question", "gsm8k"),
    ("problem", "math/hendrycks_math"),
    ("problem", "math/math500_test.jsonl"),
    ("problem", "rllm_deepscaler/train_math"),
    ("problem", "rllm_deepscaler/test_code"),
]


def originals(root: Path) -> list[str]:
    from srpo.curate.sources import RawRow, discover
    from srpo.curate.table_rows import read_rows

    texts = []
    for field, dataset in SOURCES:
        for source_file in discover(root / dataset):
            texts.extend(
                r.data[field] for r in read_rows(source_file) if isinstance(r, RawRow) and field in r.data
            )
    return list(dict.fromkeys(t for t in texts if isinstance(t, str)))


def synthesise(texts: list[str], count: int) -> list[str]:
    from srpo.testing.perturb import perturb

    problems = list(texts)
    seed = 0
    while len(problems) < count:
        problems.append(perturb(texts[seed % len(texts)], seed))
        seed += 1
    return problems[:count]


def srpo_path(questions: list[str], scratch: Path) -> tuple[float, float, int]:
    """(seconds for fingerprints + duplicate resolution + index writes, seconds storing the
    problem rows themselves, duplicates found). The peer stores nothing, so the rows are timed apart."""
    from srpo.catalog import Catalog
    from srpo.catalog import problems as problem_store
    from srpo.catalog.records import Problem
    from srpo.curate.config import CleaningConfig
    from srpo.curate.dedup import deduplicate
    from srpo.curate.fingerprint import fingerprints
    from srpo.curate.ingest import use_index_settings

    config = CleaningConfig()
    catalog = Catalog.open(scratch / "bench.duckdb", create=True)
    with catalog.writer() as con:
        use_index_settings(con, config)
    found, dedup_seconds, store_seconds = 0, 0.0, 0.0
    cache: dict = {}
    for start in range(0, len(questions), BATCH):
        problems = [
            Problem(source="bench", split="train", source_index=str(start + i), domain="math", question=q,
                    answer="1", row_hash=str(start + i))
            for i, q in enumerate(questions[start : start + BATCH])
        ]  # fmt: skip
        for problem in problems:
            problem.refresh_id()
        began = time.perf_counter()
        with catalog.writer() as con:
            prints = fingerprints(problems, config.dedup)
            result = deduplicate(con, problems, prints, config.dedup, shingle_cache=cache)
            stored = time.perf_counter()
            problem_store.insert_new(con, problems)
            store_seconds += time.perf_counter() - stored
        dedup_seconds += time.perf_counter() - began
        found += sum(result.rejected.values())
    return dedup_seconds - store_seconds, store_seconds, found


def peer_path(questions: list[str]) -> tuple[float, int]:
    """The loop a user would write from datasketch's README, on the same shingles."""
    from datasketch import MinHash, MinHashLSH

    from srpo.curate.config import DedupConfig
    from srpo.curate.text import tokens

    config = DedupConfig()
    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    found = 0
    started = time.perf_counter()
    for index, question in enumerate(questions):
        words = tokens(question)
        shingles = {
            " ".join(words[i : i + n])
            for n in range(1, config.shingle_size + 1)
            for i in range(len(words) - n + 1)
        }
        minhash = MinHash(num_perm=config.num_perm)
        for shingle in shingles:
            minhash.update(shingle.encode("utf-8"))
        if lsh.query(minhash):
            found += 1
        else:
            lsh.insert(str(index), minhash)
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=100_000)
    parser.add_argument(
        "--peer-sample", type=int, default=0, help="time the peer on the first N only (0: all)"
    )
    args = parser.parse_args()
    root = shared_data_or_exit()
    questions = synthesise(originals(root), args.problems)
    report("problems", len(questions))
    report("mean_question_chars", sum(map(len, questions)) / len(questions), "chars")
    with tempfile.TemporaryDirectory() as scratch:
        seconds, store_seconds, found = srpo_path(questions, Path(scratch))
    report("srpo_seconds", seconds, "s")
    report("srpo_rate", len(questions) / seconds, "problems/s")
    report("srpo_storing_problem_rows_seconds", store_seconds, "s")
    report("srpo_duplicates_found", found)
    sample = questions[: args.peer_sample] if args.peer_sample else questions
    peer_seconds, peer_found = peer_path(sample)
    report("peer_problems", len(sample))
    report("peer_seconds", peer_seconds, "s")
    report("peer_rate", len(sample) / peer_seconds, "problems/s")
    report("peer_duplicates_found", peer_found)
    print(f"ratio dedup: {(len(questions) / seconds) / (len(sample) / peer_seconds):.2f}")


if __name__ == "__main__":
    main()
