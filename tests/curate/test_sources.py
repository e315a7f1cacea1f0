"""Reading files: every good row comes out, every bad one is reported with its line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from srpo.curate.sources import BadRow, RawRow, discover, fingerprint, split_from_path
from srpo.curate.table_rows import read_rows
from srpo.errors import InputError
from tests.helpers import write_jsonl


def rows_of(path: Path) -> list:
    [source_file] = discover(path)
    return list(read_rows(source_file))


def test_jsonl_keeps_good_rows_and_reports_each_bad_line(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"q": 1}\n'
        b"\n"  # blank lines are skipped, not errors
        b'{"q": 2\n'  # truncated JSON
        b'{"q": "\xff\xfe"}\n'  # bad UTF-8
        b"[1, 2]\n"  # not an object
        b'{"q": 3}\r\n'
    )
    rows = rows_of(path)
    good = [(r.line, r.data["q"]) for r in rows if isinstance(r, RawRow)]
    bad = {r.line: r.error for r in rows if isinstance(r, BadRow)}
    assert good == [(1, 1), (6, 3)]
    assert bad[3].startswith("invalid JSON")
    assert bad[4].startswith("invalid UTF-8")
    assert bad[5] == "expected a JSON object, got array"


def test_gzipped_jsonl_and_truncated_gzip(tmp_path):
    path = tmp_path / "data.jsonl.gz"
    payload = "".join(json.dumps({"i": i}) + "\n" for i in range(2000)).encode()
    path.write_bytes(gzip.compress(payload))
    assert [r.data["i"] for r in rows_of(path)] == list(range(2000))
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    rows = rows_of(truncated)
    assert isinstance(rows[-1], BadRow) and "truncated" in rows[-1].error
    good = [r for r in rows if isinstance(r, RawRow)]
    assert good and [r.data["i"] for r in good] == list(range(len(good)))


def test_json_array_reports_element_lines_and_resumes_after_a_broken_element(tmp_path):
    path = tmp_path / "arr.json"
    path.write_text('[\n  {"a": 1},\n  {"a": 2, oops},\n  {"a": 3},\n  "text"\n]\n')
    rows = rows_of(path)
    assert [(r.line, r.data["a"]) for r in rows if isinstance(r, RawRow)] == [(2, 1), (4, 3)]
    bad = [(r.line, r.error) for r in rows if isinstance(r, BadRow)]
    assert bad[0][0] == 3 and bad[0][1].startswith("invalid JSON")
    assert bad[1] == (5, "expected a JSON object, got string")


def test_json_wrapper_single_object_and_jsonl_in_json(tmp_path):
    wrapped = tmp_path / "w.json"
    wrapped.write_text(json.dumps({"version": 1, "data": [{"a": 1}, {"a": 2}]}))
    assert [r.data["a"] for r in rows_of(wrapped)] == [1, 2]
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"problem": "p", "solution": "s"}, indent=2))
    [row] = rows_of(single)
    assert row.whole_file and row.locator == "one.json"
    lines = tmp_path / "lines.json"
    write_jsonl(lines, [{"a": 1}, {"a": 2}])
    assert [r.data["a"] for r in rows_of(lines)] == [1, 2]


def test_json_with_bad_utf8_marks_only_the_bad_element(tmp_path):
    path = tmp_path / "enc.json"
    path.write_bytes(b'[{"a": "ok"}, {"a": "\xff"}]')
    rows = rows_of(path)
    assert isinstance(rows[0], RawRow) and isinstance(rows[1], BadRow)
    assert "UTF-8" in rows[1].error


def test_csv_rows_with_wrong_field_count_are_bad(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('question,answer\n"What is\n1+1?",2\nonly one field\nq3,3\n')
    rows = rows_of(path)
    good = [(r.line, r.data) for r in rows if isinstance(r, RawRow)]
    assert good == [(2, {"question": "What is\n1+1?", "answer": "2"}), (5, {"question": "q3", "answer": "3"})]
    [bad] = [r for r in rows if isinstance(r, BadRow)]
    assert (bad.line, bad.error) == (4, "row has 1 fields, header has 2")


def test_parquet_rows_and_unreadable_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"question": ["a", "b"], "meta": [{"k": 1}, {"k": 2}]}), path)
    rows = rows_of(path)
    assert [(r.line, r.data["meta"]["k"]) for r in rows] == [(1, 1), (2, 2)]
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    [bad] = rows_of(broken)
    assert isinstance(bad, BadRow) and "Parquet" in bad.error


def test_discover_folders_sorted_and_skips_hidden_and_unknown(tmp_path):
    (tmp_path / "train" / "algebra").mkdir(parents=True)
    (tmp_path / ".cache").mkdir()
    (tmp_path / "train" / "algebra" / "2.json").write_text("{}")
    (tmp_path / "train" / "algebra" / "1.json").write_text("{}")
    (tmp_path / ".cache" / "x.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("hi")
    files = discover(tmp_path)
    assert [f.relpath for f in files] == ["train/algebra/1.json", "train/algebra/2.json"]
    assert files[0].split_hint == "train"
    with pytest.raises(InputError, match="unsupported file type"):
        discover(tmp_path / "notes.txt")
    with pytest.raises(InputError, match="no such file"):
        discover(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    ("path", "split"),
    [("gsm8k/train.jsonl", "train"), ("math500_test.jsonl", "test"), ("test_math/aime.json", "test"),
     ("deepscaler_val.parquet", "validation"), ("HumanEval.jsonl.gz", None), ("latest/data.jsonl", None)],
)  # fmt: skip
def test_split_from_path(path, split):
    assert split_from_path(path) == split


def test_fingerprint_changes_with_content(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"a": 1}])
    first = fingerprint(discover(path))
    assert fingerprint(discover(path)) == first
    write_jsonl(path, [{"a": 2}])
    assert fingerprint(discover(path)) != first
