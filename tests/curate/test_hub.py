"""Hugging Face hub ids: recognising them and choosing a subset's and split's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from srpo.curate.hub import hub_id, select_files
from srpo.curate.sources import discover
from srpo.errors import HubError


def test_hub_ids_are_recognised_only_when_no_local_path_matches(tmp_path, monkeypatch):
    assert hub_id("openai/gsm8k") == "openai/gsm8k"
    assert hub_id("hf://agentica-org/DeepScaleR-Preview-Dataset") == "agentica-org/DeepScaleR-Preview-Dataset"
    assert hub_id("data.jsonl") is None and hub_id("a/b/c") is None
    (tmp_path / "openai").mkdir()
    (tmp_path / "openai" / "gsm8k").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert hub_id("openai/gsm8k") is None  # a local path of that name wins


@pytest.fixture
def snapshot(tmp_path) -> Path:
    """A folder laid out like a downloaded hub dataset with two configurations."""
    for name in ("main/train-00000-of-00001.parquet", "main/test-00000-of-00001.parquet",
                 "socratic/train-00000-of-00001.parquet"):  # fmt: skip
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PAR1")
    return tmp_path


def test_subset_and_split_select_files(snapshot):
    files = discover(snapshot)
    chosen = select_files(files, repo_id="openai/gsm8k", subset="main", split="test")
    assert [f.relpath for f in chosen] == ["main/test-00000-of-00001.parquet"]
    assert len(select_files(files, repo_id="openai/gsm8k", subset="main", split=None)) == 2


def test_ambiguous_or_unknown_subset_and_split_are_clear_errors(snapshot):
    files = discover(snapshot)
    with pytest.raises(HubError, match=r"several subsets \(main, socratic\): pass --subset"):
        select_files(files, repo_id="openai/gsm8k", subset=None, split=None)
    with pytest.raises(
        HubError, match=r"--subset other: dataset .* has no such subset; it has: main, socratic"
    ):
        select_files(files, repo_id="openai/gsm8k", subset="other", split=None)
    with pytest.raises(HubError, match=r"--split validation: dataset .* has no files for that split"):
        select_files(files, repo_id="openai/gsm8k", subset="main", split="validation")
