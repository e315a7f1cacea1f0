"""Well-known evaluation sets: noticing one ingested as training data, turning a stored source
into a benchmark, and counting what each benchmark keeps out of training.

- `recognise`: by its source name, file or hub id, adapter and splits, whether an ingested
  source looks like MATH-500, AIME 2024/2025, AMC 2023, GSM8K test, HumanEval, MBPP test,
  LiveCodeBench (or the MATH test split, which holds all of MATH-500); the ingest summary then
  says so and shows how to keep it for evaluation.
- `make_benchmark`: `srpo-curate benchmark SOURCE --name NAME [--split S]` on a source already
  in the catalog (the work is `decontam.register_benchmark`: mark, index, re-check).
- `benchmark_counts`: per benchmark, the training problems it rejected and those it marked.

Does not cover: matching problems against benchmarks (`decontam`). Recognition is a hint from
names, not from content: a renamed copy of MATH-500 is not recognised (decontamination against
a registered MATH-500 still finds it).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srpo.curate.config import CleaningConfig
from srpo.curate.decontam import BenchmarkReport, check_name, register_benchmark
from srpo.errors import InputError

if TYPE_CHECKING:
    import duckdb

    from srpo.catalog.connection import Catalog


@dataclass(frozen=True, slots=True)
class KnownBenchmark:
    """A well-known evaluation set an ingested source looks like."""

    title: str
    """Its usual name, e.g. "MATH-500"."""
    name: str
    """The benchmark name suggested for `--benchmark`."""
    splits: tuple[str, ...] | None = None
    """Only these splits are the evaluation set (GSM8K and MBPP ship train splits too)."""


# (pattern over the source name, file path or hub id; an adapter that also identifies it; the
# split that must be present; what it is). A name alone is enough unless the adapter is "+name".
_KNOWN: tuple[tuple[str, str | None, str | None, KnownBenchmark], ...] = (
    (r"math[-_ ]?500|prm800k", "math500", None, KnownBenchmark("MATH-500", "math500")),
    (r"aime[-_ ]?(?:20)?24", None, None, KnownBenchmark("AIME 2024", "aime24")),
    (r"aime[-_ ]?(?:20)?25", None, None, KnownBenchmark("AIME 2025", "aime25")),
    (r"amc[-_ ]?(?:20)?23", None, None, KnownBenchmark("AMC 2023", "amc23")),
    (r"livecodebench|\blcb\b", None, None, KnownBenchmark("LiveCodeBench", "livecodebench")),
    (r"human[-_ ]?eval", "humaneval", None, KnownBenchmark("HumanEval", "humaneval")),
    (r"gsm8k", "gsm8k", "test", KnownBenchmark("the GSM8K test split", "gsm8k-test", ("test",))),
    (r"mbpp", "mbpp", "test", KnownBenchmark("the MBPP test split", "mbpp-test", ("test",))),
    (r"\baime\b", None, "test", KnownBenchmark("an AIME test set", "aime", ("test",))),
    (r"\bamc\b", None, "test", KnownBenchmark("an AMC test set", "amc", ("test",))),
    (r"hendrycks|\bmath\b", "+math", "test", KnownBenchmark("the MATH test split (it holds all of MATH-500)",
                                                          "math-test", ("test",))),
)  # fmt: skip


def recognise(*, source: str, location: str, adapter: str, splits: set[str]) -> KnownBenchmark | None:
    """The well-known evaluation set this source looks like, if any (first match wins)."""
    haystack = f"{source} {location}".lower().replace("\\", "/")
    for pattern, by_adapter, split, known in _KNOWN:
        named = re.search(pattern, haystack) is not None
        if by_adapter is not None and by_adapter.startswith("+"):  # the name and the adapter
            named = named and adapter == by_adapter[1:]
        elif by_adapter is not None:
            named = named or adapter == by_adapter
        if not named:
            continue
        if split is not None and split not in splits:
            continue
        return known
    return None


def notice(
    known: KnownBenchmark, *, source: str, location: str, splits: set[str], hub_id: str | None = None
) -> dict[str, Any]:
    """What the ingest summary says: which set it looks like, and the command that keeps it
    for evaluation (the `--benchmark` form of the ingest when all of it is evaluation data)."""
    whole = known.splits is None or splits <= set(known.splits)
    if whole and not hub_id and location != "-":  # a hub id would need its --subset and --split again
        command = f"srpo-curate ingest {shlex.quote(location)} --benchmark {known.name}"
    else:
        only = f" --split {','.join(known.splits)}" if known.splits and not whole else ""
        command = f"srpo-curate benchmark {shlex.quote(source)}{only} --name {known.name}"
    return {"looks_like": known.title, "name": known.name, "command": command}


def make_benchmark(
    catalog: Catalog, *, name: str, source: str, splits: tuple[str, ...] | None, config: CleaningConfig
) -> BenchmarkReport:
    """Turn a source already in the catalog (some of its splits) into benchmark NAME."""
    check_name(name)
    with catalog.reader() as con:
        found = con.execute(
            "SELECT split, count(*), count(benchmark), min(benchmark) FROM problems WHERE source = ? "
            "GROUP BY split ORDER BY split",
            [source],
        ).fetchall()
        if not found:
            sources = [
                row[0] for row in con.execute("SELECT DISTINCT source FROM problems ORDER BY 1").fetchall()
            ]
            raise InputError(f"SOURCE {source}: no such source in the catalog; it has: {', '.join(sources)}")
    have = {split: (rows, marked, other) for split, rows, marked, other in found}
    missing = sorted(set(splits or ()) - set(have))
    if missing:
        raise InputError(f"--split {','.join(missing)}: source {source} has splits {', '.join(sorted(have))}")
    for split in splits or sorted(have):
        _, marked, other = have[split]
        if marked and other != name:
            raise InputError(f"SOURCE {source}: split {split} is already benchmark {other}; --name {other}")
    return register_benchmark(catalog, name=name, source=source, split=splits, config=config)


def benchmark_counts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per registered benchmark: its problems, the training problems it rejected
    (`decontam.NAME`), and the training problems that leak it whatever their status."""
    rows = con.execute(
        """
        SELECT b.name, b.source, coalesce(b.split, 'all') AS splits, b.problems,
               (SELECT count(*) FROM problems t
                 WHERE t.benchmark IS NULL AND t.reject_reason = 'decontam.' || b.name) AS rejected,
               (SELECT count(*) FROM problems t
                 WHERE t.benchmark IS NULL AND t.contaminated_with IN
                       (SELECT problem_id FROM problems x WHERE x.benchmark = b.name)) AS leaking
        FROM benchmarks b ORDER BY b.name
        """
    ).fetchall()
    keys = ("benchmark", "source", "splits", "problems", "training_rejected", "training_leaking")
    return [dict(zip(keys, row, strict=True)) for row in rows]
