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

from srpo.errors import CatalogError, InputError, SrpoError
from srpo.train import distributed

if TYPE_CHECKING:
    from srpo.train.config import TrainConfig
    from srpo.train.trainer import TrainReport


def _new_run(config_path: Path | None, overrides: tuple[str, ...], model: str | None) -> TrainConfig:
    """A new run's checks that need no data (config, model, tokenizer), on every rank before
    any process group, catalog or epoch: a bad setting fails in seconds, not after planning."""
    from srpo.train.catalog_record import resolve_config

    config = resolve_config(None, config_path=config_path, overrides=overrides)
    _check_model(config, model)
    return config


def _resolve(
    catalog_path: Path,
    model: str | None,
    config_path: Path | None,
    overrides: tuple[str, ...],
    resume: str | None,
    checked: TrainConfig | None,
) -> tuple[Any, TrainConfig, str]:
    """The catalog, config and model (a resumed run's config and model live in the catalog)."""
    from srpo.catalog.runs import get_run
    from srpo.train.catalog_record import resolve_config

    if checked is not None:
        return _open(catalog_path), checked, model
    catalog = _open(catalog_path)
    config = resolve_config(catalog, config_path=config_path, overrides=overrides, resume=resume)
    if model is None:
        with catalog.reader() as con:
            run = get_run(con, resume)
        model = run.model if run else None
    _check_model(config, model)
    return catalog, config, model


def _open(catalog_path: Path) -> Any:
    from srpo.catalog import Catalog

    if not Path(catalog_path).exists():  # the catalog layer's message names srpo-curate's --catalog
        raise CatalogError(
            f"--from-catalog {catalog_path}: no catalog there; build one with srpo-curate ingest"
        )
    return Catalog.open(catalog_path)


def _check_model(config: TrainConfig, model: str | None) -> None:
    """Checks that need no data: a model is named, its tokenizer loads and fits prompt.kind."""
    from srpo.rollout.rendering import check_tokenizer

    if model is None:
        raise InputError("--model is required (a resumed run defaults to the model it started from)")
    check_tokenizer(model, prompt_kind=config.prompt.kind, trust_remote_code=config.engine.trust_remote_code)


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
    """Resolve the config and model on rank 0, share them, and train on every rank; the process
    group joined for the run is left at its end (see `distributed.processes`)."""
    from srpo.config import to_dict
    from srpo.train.trainer import train

    checked = _new_run(config_path, overrides, model) if resume is None else None
    with distributed.processes():
        catalog: Any = catalog_path
        outcome: tuple[Any, Any] | SrpoError = ("", "")
        if distributed.is_main():
            try:
                resolved = _resolve(catalog_path, model, config_path, overrides, resume, checked)
                catalog, config, model = resolved
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
