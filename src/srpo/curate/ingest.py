"""`srpo-curate ingest`: read a source, map it through an adapter, clean it, store it.

The run is idempotent and resumable: rows are keyed by (source, split, source_index) and a row
already stored with the same raw content is skipped, batches commit as single transactions, and
an ingest whose process died is taken over by the next run of the same input. Rows that cannot
become problems land in `invalid_rows` with file, line, field and reason; good rows still land.

Covers: choosing the adapter and names, batching, counting, the ingest record.
Does not cover: reading files (`sources`), mapping rows (`adapters`), cleaning (`pipeline`, `rules`),
writing batches (`batch`), duplicates (`dedup`) and benchmarks (`decontam`).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from srpo.catalog import dedup_index, ingests, invalid_rows
from srpo.catalog.connection import Catalog
from srpo.catalog.ratings import rate_from_source
from srpo.curate import hub
from srpo.curate.adapters import Adapter, detect_adapter, get_adapter
from srpo.curate.batch import IngestPass, PassSettings
from srpo.curate.benchmarks import notice, recognise
from srpo.curate.config import CleaningConfig
from srpo.curate.decontam import check_name, register_benchmark
from srpo.curate.fingerprint import lsh_shape, remember_shape
from srpo.curate.normalise import Normalise
from srpo.curate.pipeline import Pipeline, RequiredFields, build_pipeline
from srpo.curate.source_difficulty import SourceDifficultyRule, parse_rule
from srpo.curate.sources import SPLIT_WORDS, BadRow, RawRow, SourceFile, discover, fingerprint
from srpo.curate.table_rows import read_rows
from srpo.errors import CatalogError, InputError

if TYPE_CHECKING:
    import duckdb

_SPLIT_IN_NAME = re.compile(r"(?:^|[_\-. ])(?:" + "|".join(SPLIT_WORDS) + r")(?=$|[_\-. ])")


@dataclass(frozen=True, kw_only=True)
class IngestOptions:
    """What to ingest and how; every field has a CLI flag of the same name."""

    location: str
    """A local file or folder, `-` for JSONL on stdin, or a Hugging Face dataset id."""
    adapter: str | None = None
    """Adapter name; auto-detected from the fields of the first rows when None."""
    split: str | None = None
    """Split for every row; else the row's own, the file path's, the adapter's, or 'train'."""
    source: str | None = None
    """Source name; else derived from the file or folder name (split words removed)."""
    subset: str | None = None
    """Hub datasets only: the configuration folder to read."""
    license: str | None = None
    """License recorded on every row; else the adapter's default."""
    batch_size: int = 5000
    """Rows per committed transaction."""
    limit: int | None = None
    """Stop after this many rows (for a first look at a large source)."""
    sample_size: int = 20
    """Rows read to auto-detect the adapter."""
    benchmark: str | None = None
    """Register these problems as benchmark NAME: stored for evaluation, never trained on, and
    every training problem sharing an n-gram or near-duplicating one of them is rejected."""
    config: CleaningConfig = field(default_factory=CleaningConfig)
    """Cleaning, deduplication and decontamination settings."""
    difficulty_from_source: str | None = None
    """Set `difficulty` from the dataset's own field (`scale:LOW,HIGH` or `pass-rate[:HARD,EASY]`,
    see `source_difficulty`) on this source's problems that have none yet."""


class Reporter(Protocol):
    def note(self, message: str) -> None: ...
    def start(self, total_bytes: int) -> None: ...
    def advance(self, done_bytes: int) -> None: ...
    def stop(self) -> None: ...


class SilentReporter:
    def note(self, message: str) -> None:
        pass

    def start(self, total_bytes: int) -> None:
        pass

    def advance(self, done_bytes: int) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass(slots=True)
class IngestReport:
    ingest_id: int
    source: str
    adapter: str
    adapter_reason: str
    location: str
    files: int
    resumed: bool
    status: str
    counts: ingests.IngestCounts
    splits: dict[str, int] = field(default_factory=dict)
    stage_counts: dict[str, Any] = field(default_factory=dict)
    invalid_examples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    benchmark: dict[str, Any] | None = None
    rated_from_source: int = 0
    looks_like: dict[str, Any] | None = None
    """Set when the source looks like a well-known evaluation set ingested as training data:
    which one, and the command that keeps it for evaluation (see `curate.benchmarks`)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------ naming


def default_source_name(path: Path) -> str:
    """`gsm8k/train.jsonl` -> gsm8k, `math500_test.jsonl` -> math500, `HumanEval.jsonl.gz` -> humaneval."""
    for part in [path.name, *(p.name for p in path.resolve().parents)]:
        base = part.split(".")[0].lower()
        name = _SPLIT_IN_NAME.sub("", base).strip("_-. ")
        if name:
            return name
    return "dataset"


BUILTIN_PREFIX = "srpo:"


def builtin_dataset(name: str) -> Path:
    """A small dataset shipped inside the package (`srpo:demo`), for trying srpo offline."""
    from importlib import resources

    path = Path(str(resources.files("srpo").joinpath("data", f"{name}.jsonl")))
    if not path.is_file():
        raise InputError(f"no built-in dataset {name!r}; built-in datasets: srpo:demo")
    return path


@dataclass(frozen=True, slots=True)
class _Resolved:
    files: list[SourceFile]
    display: str
    name_from: Path | None
    hub_id: str | None = None


def _resolve(options: IngestOptions) -> _Resolved:
    if options.location == "-":
        from srpo.curate.sources import stdin_to_file

        spooled = stdin_to_file()
        return _Resolved(discover(spooled), "-", None)
    if options.location.startswith(BUILTIN_PREFIX):
        path = builtin_dataset(options.location.removeprefix(BUILTIN_PREFIX))
        return _Resolved(discover(path), options.location, path)
    repo_id = hub.hub_id(options.location)
    if repo_id is not None:
        files = hub.fetch(repo_id, subset=options.subset, split=options.split)
        return _Resolved(files, f"hf://{repo_id}", None, hub_id=repo_id)
    path = Path(options.location).expanduser()
    return _Resolved(discover(path), str(path.resolve()), path)


def _source_name(options: IngestOptions, resolved: _Resolved) -> str:
    if options.source:
        return options.source
    if resolved.hub_id:
        return resolved.hub_id
    return default_source_name(resolved.name_from) if resolved.name_from else "stdin"


def _choose_adapter(options: IngestOptions, files: list[SourceFile]) -> tuple[Adapter, str]:
    if options.adapter:
        return get_adapter(options.adapter), "chosen with --adapter"
    sample: list[dict[str, Any]] = []
    for source_file in files:
        for row in read_rows(source_file):
            if isinstance(row, RawRow):
                sample.append(row.data)
            if len(sample) >= options.sample_size:
                break
        if len(sample) >= options.sample_size:
            break
    return detect_adapter(sample, files[0].relpath)


# ------------------------------------------------------------------------------------ the run


def _rows(files: list[SourceFile], reporter: Reporter, limit: int | None) -> Iterator[RawRow | BadRow]:
    rows = itertools.chain.from_iterable(read_rows(f, reporter.advance) for f in files)
    return itertools.islice(rows, limit) if limit is not None else rows


def _batches(rows: Iterable[RawRow | BadRow], size: int) -> Iterator[list[RawRow | BadRow]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _pipeline_for(options: IngestOptions) -> Pipeline:
    if options.benchmark:  # evaluation data: tidy the text, never filter it away
        return Pipeline([RequiredFields(), Normalise()])
    return build_pipeline(options.config)


def use_index_settings(con: duckdb.DuckDBPyConnection, config: CleaningConfig) -> None:
    """Check the MinHash settings against those the catalog's index was built with.

    The first ingest records them (with datasketch's band split); later ones must match, since
    buckets made with other settings never meet the stored ones.
    """
    dedup_config = config.dedup
    wanted = {"threshold": dedup_config.threshold, "num_perm": dedup_config.num_perm,
              "shingle_size": dedup_config.shingle_size, "seed": dedup_config.seed}  # fmt: skip
    stored = dedup_index.get_setting(con, "dedup_index")
    if stored is None:
        bands, rows = lsh_shape(dedup_config.threshold, dedup_config.num_perm)
        dedup_index.set_setting(con, "dedup_index", {**wanted, "bands": bands, "rows": rows})
        return
    if {key: stored.get(key) for key in wanted} != wanted:
        shown = ", ".join(f"dedup.{key}={stored.get(key)}" for key in wanted)
        asked = ", ".join(f"dedup.{key}={value}" for key, value in wanted.items())
        raise CatalogError(
            f"the catalog's duplicate index was built with {shown}, not {asked}: run "
            "`srpo-curate clean` with the new settings to rebuild it, or keep the catalog's settings"
        )
    remember_shape(dedup_config.threshold, dedup_config.num_perm, (stored["bands"], stored["rows"]))


def ingest(catalog: Catalog, options: IngestOptions, *, reporter: Reporter | None = None) -> IngestReport:
    """Ingest `options.location` into `catalog`; returns the run's report."""
    reporter = reporter or SilentReporter()
    if options.batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    if options.benchmark:
        check_name(options.benchmark)
    rule = parse_rule(options.difficulty_from_source) if options.difficulty_from_source else None
    started = time.monotonic()
    resolved = _resolve(options)
    adapter, reason = _choose_adapter(options, resolved.files)
    source = _source_name(options, resolved)
    reporter.note(f"adapter: {adapter.name} ({reason}); source: {source}")
    key = ingests.IngestKey(
        source, options.split, adapter.name, resolved.display, fingerprint(resolved.files)
    )
    with catalog.writer() as con:
        if options.config.dedup.enabled:
            use_index_settings(con, options.config)
        ingest_id, resumed = ingests.begin_ingest(con, key, options=_options_record(options))
        invalid_rows.clear_stale_invalid_rows(
            con, [str(f.path) for f in resolved.files], keep_ingest_id=ingest_id
        )
    if resumed:
        reporter.note(f"resuming ingest {ingest_id}, which stopped before it finished")
    settings = PassSettings(
        source=source, adapter=adapter, ingest_id=ingest_id, split=options.split, license=options.license,
        benchmark=options.benchmark, config=options.config,
    )  # fmt: skip
    run = IngestPass(catalog, settings, _pipeline_for(options))
    reporter.start(sum(f.size for f in resolved.files))
    try:
        for batch in _batches(_rows(resolved.files, reporter, options.limit), options.batch_size):
            run.process(batch)
    except BaseException as error:
        _close_failed(catalog, run, error)
        raise
    finally:
        reporter.stop()
    benchmark = None
    splits = tuple(sorted(run.splits))
    if options.benchmark:  # this input's splits only: a source's train split may be stored already
        reporter.note(f"registering benchmark {options.benchmark} and re-checking the catalog against it")
        benchmark = register_benchmark(
            catalog, name=options.benchmark, source=source, split=splits or None, config=options.config
        )
    with catalog.writer() as con:
        run.counts.rows_added = ingests.rows_added_by(con, ingest_id)
        if benchmark:  # rows stored earlier as training data were kept or rejected by its cleaning
            [(run.counts.rows_kept, run.counts.rows_rejected)] = con.execute(
                "SELECT count(*) FILTER (clean_status = 'kept'), count(*) FILTER (clean_status = 'rejected') "
                "FROM problems WHERE benchmark = ?",
                [options.benchmark],
            ).fetchall()
        ingests.finish_ingest(
            con, ingest_id, status="completed", counts=run.counts, stage_counts=run.stage_counts()
        )
        rated = rate_from_source(con, source, **_rule_bounds(rule)) if rule else 0
        looks_like = (
            None if options.benchmark else _looks_like(con, source, adapter.name, resolved, set(splits))
        )
    return IngestReport(
        ingest_id=ingest_id, source=source, adapter=adapter.name, adapter_reason=reason,
        location=resolved.display, files=len(resolved.files), resumed=resumed, status="completed",
        counts=run.counts, splits=run.splits, stage_counts=run.stage_counts(),
        invalid_examples=run.examples, elapsed_s=time.monotonic() - started,
        benchmark=asdict(benchmark) if benchmark else None, rated_from_source=rated, looks_like=looks_like,
    )  # fmt: skip


def _looks_like(
    con: duckdb.DuckDBPyConnection, source: str, adapter: str, resolved: _Resolved, splits: set[str]
) -> dict[str, Any] | None:
    """The notice for a well-known evaluation set stored as training problems (none once it is
    a benchmark)."""
    known = recognise(source=source, location=resolved.display, adapter=adapter, splits=splits)
    if known is None:
        return None
    [(already,)] = con.execute(
        "SELECT count(*) FROM problems WHERE source = ? AND benchmark IS NOT NULL "
        "AND list_contains(?, split)",
        [source, list(known.splits or splits)],
    ).fetchall()
    if already:
        return None
    return notice(known, source=source, location=resolved.display, splits=splits, hub_id=resolved.hub_id)


def _rule_bounds(rule: SourceDifficultyRule) -> dict[str, Any]:
    return {"low": rule.low, "high": rule.high, "below_low": rule.below_low, "from_high": rule.from_high}


def _options_record(options: IngestOptions) -> dict[str, Any]:
    return {k: v for k, v in asdict(options).items() if v is not None}


def _close_failed(catalog: Catalog, run: IngestPass, error: BaseException) -> None:
    """Mark the ingest failed or interrupted; a later run of the same input resumes it."""
    status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
    try:
        with catalog.writer() as con:
            run.counts.rows_added = ingests.rows_added_by(con, run.settings.ingest_id)
            ingests.finish_ingest(
                con, run.settings.ingest_id, status=status, counts=run.counts,
                stage_counts=run.stage_counts(), error=f"{type(error).__name__}: {error}"[:500],
            )  # fmt: skip
    except Exception:  # the original error matters more than a failure to record it
        pass
