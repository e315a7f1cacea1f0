"""The srpo side of a run in another trainer: which catalog, which run, how its epochs are
resampled and what is recorded. The same fields in TRL, verl and the OpenRLHF reward server,
loaded like every srpo config (`srpo.config.load_config`: TOML or YAML plus `key=value`).

Covers: the fields and their checks. Does not cover: the catalog I/O (`recorder`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srpo.errors import InputError
from srpo.train.config import DataConfig


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Where a peer trainer's completions are recorded and how its epochs are chosen."""

    catalog: str | None = None
    """The catalog file; None: $SRPO_CATALOG, else ./srpo.duckdb."""
    run_id: str | None = None
    """The run's id; None starts a new run (`<kind>-<time>-<hex>`); an existing id of the same
    kind continues that run (sample numbers and epochs carry on)."""
    model: str | None = None
    """The model being trained, stored in `runs.model` (for the record only)."""
    seed: int = 0
    """Seeds the order of each epoch's problems (a hash of problem, seed and epoch), as in
    srpo-train."""
    stage: int = 2
    """SRPO stage whose domains the epochs draw from: 1 math only, 2 math and code."""
    data: DataConfig = field(default_factory=DataConfig)
    """Which problems an epoch takes and how history resampling filters them: the `data`
    section of srpo-train (`difficulties`, `include_unrated`, `drop_solved`, ...)."""
    store_responses: bool = False
    """Also store each completion's text and extracted answer in `rollouts`."""
    write_interval_s: float = 5.0
    """Rollouts are buffered and written in one short transaction at most this often (and
    always before an epoch is planned and when the run ends)."""

    def validate(self) -> None:
        if self.stage not in (1, 2):
            raise InputError(f"stage must be 1 (math) or 2 (math and code), got {self.stage}")
        if self.write_interval_s < 0:
            raise InputError(f"write_interval_s must not be negative, got {self.write_interval_s}")
        self.data.validate()


def load_run_config(
    path: str | Path | None = None, overrides: tuple[str, ...] | list[str] = (), **settings: Any
) -> RunConfig:
    """A RunConfig from a TOML/YAML file and `key=value` overrides; keyword `settings` (dotted
    names as keys are not needed: `catalog=...`, `run_id=...`) win over both."""
    from srpo.config import load_config, with_settings

    config = load_config(RunConfig, Path(path) if path else None, tuple(overrides))
    config = with_settings(config, settings)
    config.validate()
    return config
