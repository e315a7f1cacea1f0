"""Starting a run from the command line on every rank: rank 0 reads the catalog (the config of a
resumed run, its model), every rank gets the result, then all of them train.

An error on rank 0 (a bad option, an unknown run) is sent to the other ranks too, so every
process stops with the same one-line message instead of waiting forever for rank 0.

Covers: the command's set-up. Does not cover: the loop (`trainer`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srpo.errors import InputError, SrpoError
from srpo.train import distributed

if TYPE_CHECKING:
    from srpo.train.config import TrainConfig
    from srpo.train.trainer import TrainReport


def _resolve(
    catalog_path: Path,
    model: str | None,
    config_path: Path | None,
    overrides: tuple[str, ...],
    resume: str | None,
) -> tuple[Any, TrainConfig, str]:
    from srpo.catalog import Catalog
    from srpo.catalog.runs import get_run
    from srpo.train.catalog_record import resolve_config

    catalog = Catalog.open(catalog_path)
    config = resolve_config(catalog, config_path=config_path, overrides=overrides, resume=resume)
    if model is None and resume is not None:
        with catalog.reader() as con:
            run = get_run(con, resume)
        model = run.model if run else None
    if model is None:
        raise InputError("--model is required (a resumed run defaults to the model it started from)")
    return catalog, config, model


def launch(
    *,
    catalog_path: Path,
    model: str | None,
    config_path: Path | None,
    overrides: tuple[str, ...] = (),
    resume: str | None = None,
    run_id: str | None = None,
    on_config: Callable[[dict[str, Any]], None] | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> TrainReport:
    """Resolve the config and model on rank 0, share them, and train on every rank."""
    from srpo.config import to_dict
    from srpo.train.trainer import train

    distributed.init_processes()
    catalog: Any = catalog_path
    outcome: tuple[Any, Any] | SrpoError = ("", "")
    if distributed.is_main():
        try:
            catalog, config, model = _resolve(catalog_path, model, config_path, overrides, resume)
            outcome = (config, model)
        except SrpoError as error:
            outcome = error
    outcome = distributed.broadcast(outcome)
    if isinstance(outcome, SrpoError):
        raise outcome
    config, model = outcome
    if on_config is not None and distributed.is_main():
        on_config(to_dict(config))
    return train(catalog, model, config, run_id=run_id, resume=resume, on_step=on_step)
