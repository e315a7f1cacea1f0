"""Reading Parquet and CSV/TSV files, and `read_rows`, which picks the reader for a file's format.

Parquet rows are numbered by record (1-based); CSV rows by the line they start on. A CSV row with
the wrong number of fields or bad UTF-8 is a `BadRow`; an unreadable Parquet file is one.
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Callable, Iterator

from srpo.curate.json_rows import read_json
from srpo.curate.jsonl_rows import read_jsonl
from srpo.curate.sources import (
    BadRow,
    Progress,
    RawRow,
    Row,
    SourceFile,
    advance_progress,
    has_surrogates,
    open_binary,
    snippet,
)

# ---------------------------------------------------------------------------------- Parquet


def read_parquet(source_file: SourceFile, progress: Progress | None = None) -> Iterator[Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    stream, raw = open_binary(source_file)
    try:
        with raw, stream:
            table_source = pa.BufferReader(stream.read()) if source_file.compressed else source_file.path
            parquet = pq.ParquetFile(table_source)
            total = max(parquet.metadata.num_rows, 1)
            number, position = 0, 0
            for batch in parquet.iter_batches(batch_size=1024):
                for record in batch.to_pylist():
                    number += 1
                    yield RawRow(source_file, number, record)
                position = advance_progress(progress, source_file.size * number // total, position)
    except (pa.ArrowException, OSError, EOFError, zlib.error) as error:
        yield BadRow(source_file, 0, f"unreadable Parquet file: {error}")


# -------------------------------------------------------------------------------------- CSV


def read_csv(source_file: SourceFile, progress: Progress | None = None) -> Iterator[Row]:
    stream, raw = open_binary(source_file)
    consumed = [0]

    def decoded_lines() -> Iterator[str]:
        for line in stream:
            consumed[0] += len(line)
            yield line.decode("utf-8", errors="surrogateescape")

    delimiter = "\t" if source_file.format == "tsv" else ","
    with raw, stream:
        reader = csv.reader(decoded_lines(), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            yield BadRow(source_file, 1, "empty file")
            return
        header[0] = header[0].lstrip("\ufeff")
        position, start = 0, reader.line_num + 1
        for values in reader:
            yield _csv_row(source_file, start, header, values)
            start = reader.line_num + 1
            position = advance_progress(
                progress, raw.tell() if source_file.compressed else consumed[0], position
            )
        advance_progress(progress, source_file.size, position)


def _csv_row(source_file: SourceFile, line: int, header: list[str], values: list[str]) -> Row:
    raw = delimiter_join(values)
    if len(values) != len(header):
        return BadRow(source_file, line, f"row has {len(values)} fields, header has {len(header)}", raw)
    for name, value in zip(header, values, strict=True):
        if has_surrogates(value):
            return BadRow(source_file, line, f"invalid UTF-8 in field {name!r}", raw)
    return RawRow(source_file, line, dict(zip(header, values, strict=True)))


def delimiter_join(values: list[str]) -> str:
    return snippet(",".join(v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for v in values))


def read_rows(source_file: SourceFile, progress: Progress | None = None) -> Iterator[Row]:
    readers: dict[str, Callable[[SourceFile, Progress | None], Iterator[Row]]] = {
        "jsonl": read_jsonl, "json": read_json, "parquet": read_parquet, "csv": read_csv, "tsv": read_csv,
    }  # fmt: skip
    return readers[source_file.format](source_file, progress)
