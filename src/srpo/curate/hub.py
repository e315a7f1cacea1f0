"""Hugging Face hub datasets: download the data files of a dataset id, then read them locally.

Only the data files are fetched (Parquet, JSONL, JSON, CSV; gzipped too), into the usual hub
cache, so a second ingest of the same id reads the cache. `--subset` picks a configuration
folder and `--split` the files of one split. Offline, or for an unknown or gated id, the error
is one line that says what to do.
"""

from __future__ import annotations

import re
from pathlib import Path

from srpo.curate.sources import SourceFile, discover, split_from_path
from srpo.errors import HubError, MissingDependencyError

_HUB_ID = re.compile(r"^(?:hf://)?([A-Za-z0-9][\w.-]*/[\w.-]+)$")
_PATTERNS = ["*.parquet", "*.jsonl", "*.jsonl.gz", "*.json", "*.json.gz", "*.csv", "*.csv.gz"]


def hub_id(location: str) -> str | None:
    """The dataset id if `location` names one (and no local path of that name exists)."""
    if Path(location).exists():
        return None
    match = _HUB_ID.match(location)
    return match.group(1) if match else None


def _download(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as error:
        raise MissingDependencyError(
            "reading from the Hugging Face hub needs huggingface_hub: pip install huggingface_hub"
        ) from error
    try:
        return Path(snapshot_download(repo_id=repo_id, repo_type="dataset", allow_patterns=_PATTERNS))
    except Exception as error:  # the hub client raises many types; all mean "not available"
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise HubError(
            f"cannot fetch dataset {repo_id!r} from the Hugging Face hub ({type(error).__name__}: "
            f"{detail[:160]}); if offline, download its files elsewhere and pass the local path"
        ) from error


def _top_folder(relpath: str) -> str | None:
    parts = Path(relpath).parts
    return parts[0] if len(parts) > 1 and parts[0] != "data" else None


def select_files(
    files: list[SourceFile], *, repo_id: str, subset: str | None, split: str | None
) -> list[SourceFile]:
    """Files of one subset (configuration folder) and split."""
    subsets = sorted({s for f in files if (s := _top_folder(f.relpath))})
    if subset is not None:
        files = [f for f in files if subset in Path(f.relpath).parts]
        if not files:
            raise HubError(
                f"--subset {subset}: dataset {repo_id!r} has no such subset; "
                f"it has: {', '.join(subsets) or '(none)'}"
            )
    elif len(subsets) > 1:
        raise HubError(f"dataset {repo_id!r} has several subsets ({', '.join(subsets)}): pass --subset")
    if split is not None:
        files = [f for f in files if split_from_path(f.relpath) == split]
        if not files:
            raise HubError(f"--split {split}: dataset {repo_id!r} has no files for that split")
    return files


def fetch(repo_id: str, *, subset: str | None, split: str | None) -> list[SourceFile]:
    root = _download(repo_id)
    return select_files(discover(root), repo_id=repo_id, subset=subset, split=split)
