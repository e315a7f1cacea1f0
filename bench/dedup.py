"""Near-duplicate detection throughput: srpo's path against a per-document datasketch loop.

Synthesises the round's problems from the questions in ../shared/data: about 23% originals
(every k-th question, so every source takes part) and perturbed copies of them (whitespace,
punctuation, LaTeX spacing, one changed word), the mix of the 100,000-problem set this bench
used before. Then, on the same problems and the same shingles, in alternating rounds
(`_common.compare`):

- srpo: `fingerprints` (datasketch's MinHash computed for a batch at once, LSH bands folded
  with numpy) and `deduplicate` into a fresh DuckDB catalog (bucket joins in SQL, exact
  Jaccard re-check, number rule, the LSH buckets written to the catalog), batch by batch in a
  writer transaction as an ingest does, `--passes` times per round (see `_common.Side.passes`); storing
  the problem rows themselves is timed apart and left out, since the peer stores nothing.
  Every pass starts cold: a new catalog, srpo's memos of token hashes and questions emptied;
- peer: the straightforward loop: one `MinHash` per document updated shingle by shingle, then
  `MinHashLSH.query` and `insert`, in memory (no re-check, nothing stored).

Prints problems/s for both (median and range over the rounds), how many duplicates each found,
and last `ratio dedup` (the median of the per-round srpo / peer ratios).

Usage: just bench dedup [--problems N] [--passes N] [--rounds N] [--warmup N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Side, compare, report, rounds_argument, shared_data_or_exit

BATCH = 5000
ORIGINAL_SHARE = 0.23  # 22,989 originals in 100,000 problems: the set this bench used before
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


def round_problems(texts: list[str], count: int) -> list[str]:
    """`count` problems: every k-th original (about ORIGINAL_SHARE of them), then copies."""
    stride = max(1, round(len(texts) / max(1, count * ORIGINAL_SHARE)))
    return synthesise(texts[::stride], count)


class SrpoRound:
    """One srpo pass: the problems into a fresh catalog, in batches as an ingest writes them."""

    def __init__(self, questions: list[str], scratch: Path) -> None:
        self.questions = questions
        self.scratch = scratch
        self.made = 0
        self.found = 0
        self.store_seconds: list[float] = []

    def __call__(self) -> float:
        from srpo.catalog import Catalog
        from srpo.curate.config import CleaningConfig
        from srpo.curate.fingerprint import forget_memos
        from srpo.curate.ingest import use_index_settings

        self.made += 1
        path = self.scratch / f"pass{self.made}.duckdb"
        config = CleaningConfig()
        catalog = Catalog.open(path, create=True)
        with catalog.writer() as con:
            use_index_settings(con, config)
        forget_memos()
        dedup_seconds, store_seconds, self.found = self._batches(catalog, config)
        self.store_seconds.append(store_seconds)
        path.unlink()
        return len(self.questions) / dedup_seconds

    def _batches(self, catalog: Any, config: Any) -> tuple[float, float, int]:
        """(seconds for fingerprints, duplicate resolution and index writes, seconds storing the
        problem rows themselves, duplicates found)."""
        from srpo.catalog import problems as problem_store
        from srpo.curate.dedup import deduplicate
        from srpo.curate.fingerprint import fingerprints

        found, dedup_seconds, store_seconds = 0, 0.0, 0.0
        cache: dict = {}
        for start in range(0, len(self.questions), BATCH):
            problems = make_problems(self.questions[start : start + BATCH], start)
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


def make_problems(questions: list[str], start: int) -> list:
    from srpo.catalog.records import Problem

    problems = [
        Problem(source="bench", split="train", source_index=str(start + i), domain="math", question=q,
                answer="1", row_hash=str(start + i))
        for i, q in enumerate(questions)
    ]  # fmt: skip
    for problem in problems:
        problem.refresh_id()
    return problems


class PeerRound:
    """The loop a user would write from datasketch's README, on the same shingles."""

    def __init__(self, questions: list[str]) -> None:
        self.questions = questions
        self.found = 0

    def __call__(self) -> float:
        from datasketch import MinHash, MinHashLSH

        from srpo.curate.config import DedupConfig
        from srpo.curate.text import tokens

        config = DedupConfig()
        lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
        found = 0
        started = time.perf_counter()
        for index, question in enumerate(self.questions):
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
        seconds = time.perf_counter() - started
        self.found = found
        return len(self.questions) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=10_000, help="problems per round (default 10,000)")
    parser.add_argument("--passes", type=int, default=5, help="srpo's passes over the problems per round")
    rounds_argument(parser)
    args = parser.parse_args()
    texts = originals(shared_data_or_exit())
    questions = round_problems(texts, args.problems)
    report("per round", f"srpo {args.passes} passes over {len(questions)} problems (batches of {BATCH}, "
           f"a fresh catalog each), the peer one pass")  # fmt: skip
    report("mean_question_chars", sum(map(len, questions)) / len(questions), "chars")
    with tempfile.TemporaryDirectory() as scratch:
        ours, peer = SrpoRound(questions, Path(scratch)), PeerRound(questions)

        def found() -> None:
            report("srpo_duplicates_found", ours.found)
            report("peer_duplicates_found", peer.found)
            stored = median(ours.store_seconds)
            report("srpo_storing_problem_rows_seconds (median per pass, left out)", stored, "s")

        compare("dedup", Side("srpo", ours, passes=args.passes), Side("peer", peer), rounds=args.rounds,
                warmup=args.warmup, unit="problems/s", details=found)  # fmt: skip


if __name__ == "__main__":
    main()
