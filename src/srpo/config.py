"""Typed configuration: dataclasses loaded from TOML or YAML, overridden by `--set key=value`.

Every srpo config is a (possibly nested) frozen dataclass whose fields have defaults and a
docstring. `load_config(Type, path, overrides)` reads the file, applies `a.b=value` overrides
(values parsed as YAML scalars, so `true`, `0.8`, `[1, 2]` get their types), rejects unknown
keys with the list of known ones, and checks each value against the field's type.
`with_settings(config, {"engine.model": ...})` sets fields a command's flags name (a flag wins
over the file and `--set`). A key that was renamed is refused with its new name (`renamed`), or
moved to it silently for settings stored by an earlier srpo (`migrate`).

A leaf module like `srpo.errors`: every package may use it.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from srpo.errors import InputError

T = TypeVar("T")


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"--config {path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text) or {}
    except Exception as error:
        raise InputError(
            f"--config {path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {error}"
        ) from error
    if not isinstance(data, dict):
        raise InputError(f"--config {path}: the top level must be a table of settings")
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """`dedup.threshold=0.85` -> (['dedup', 'threshold'], 0.85)."""
    import yaml

    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--set {text!r}: expected key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def _merge(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise InputError(f"--set {'.'.join(path)}: {part} is not a section")
    node[path[-1]] = value


def _check_type(value: Any, kind: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if kind is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(kind):
            try:
                return _check_type(value, option, where)
            except InputError:
                continue
        raise InputError(f"{where}: {value!r} does not fit {kind}")
    if kind is type(None):
        if value is None:
            return None
        raise InputError(f"{where}: expected null, got {value!r}")
    if origin in (tuple, list, Sequence):
        if not isinstance(value, list | tuple):
            raise InputError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(kind)
        inner = args[0] if args else Any
        return tuple(_check_type(v, inner, where) for v in value)
    if origin is typing.Literal:
        if value not in typing.get_args(kind):
            raise InputError(f"{where}: expected one of {typing.get_args(kind)}, got {value!r}")
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, str):
        # PyYAML reads `1e-6` (no dot) as a string; it is the usual way to write a learning rate.
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(kind, type) and not isinstance(value, kind):
        raise InputError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        inner = merged.get(key)
        nested = isinstance(inner, dict) and isinstance(value, Mapping)
        merged[key] = _deep_merge(inner, value) if nested else value
    return merged


def _over_default(field: dataclasses.Field, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A partial section on top of the field's own default: a command whose default section
    differs from the section type's (srpo-train samples 8 per group) keeps it when one key of
    the section is set."""
    if field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    elif dataclasses.is_dataclass(field.default):
        default = field.default
    else:
        return value
    return _deep_merge(to_dict(default), value)


def build(cls: type[T], data: Mapping[str, Any], *, where: str = "") -> T:
    """Instantiate dataclass `cls` from a mapping, recursing into nested dataclass fields."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(
            f"unknown setting {where}{unknown[0]}; known: {', '.join(sorted(where + k for k in fields))}"
        )
    values = {}
    for name, value in data.items():
        kind = hints[name]
        if dataclasses.is_dataclass(kind) and isinstance(value, Mapping):
            value = _over_default(fields[name], value)
            values[name] = build(kind, value, where=f"{where}{name}.")
        else:
            values[name] = _check_type(value, kind, f"{where}{name}")
    return cls(**values)


def _pop(data: dict[str, Any], path: list[str]) -> tuple[bool, Any]:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or path[-1] not in node:
        return False, None
    return True, node.pop(path[-1])


def migrate(data: dict[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """Settings stored under an old key moved to the new one (for configs an earlier srpo stored);
    a section left empty is dropped."""
    for old, new in renamed.items():
        path = old.split(".")
        found, value = _pop(data, path)
        if found:
            _merge(data, new.split("."), value)
            for depth in range(len(path) - 1, 0, -1):
                found, parent = _pop(data, path[:depth])
                if found and parent:
                    _merge(data, path[:depth], parent)  # not empty: put it back
                    break
    return data


def _refuse_renamed(data: dict[str, Any], renamed: Mapping[str, str], where: str) -> None:
    for old, new in renamed.items():
        found, _ = _pop(json.loads(json.dumps(data)), old.split("."))
        if found:
            raise InputError(f"{where}: the setting {old} is now called {new}")


def load_config(
    cls: type[T],
    path: Path | None = None,
    overrides: Sequence[str] = (),
    *,
    base: Mapping[str, Any] | None = None,
    renamed: Mapping[str, str] | None = None,
) -> T:
    """`cls` from the file at `path` (else from `base`, e.g. a config stored with a run), with
    `key=value` overrides applied on top. `renamed` maps old dotted keys to new ones: in `base`
    they are moved, in the file and the overrides they are refused with the new name."""
    renamed = renamed or {}
    if path:
        data = _read_file(path)
        _refuse_renamed(data, renamed, str(path))
    else:
        data = migrate(json.loads(json.dumps(base or {})), renamed)
    for override in overrides:
        keys, value = parse_override(override)
        _refuse_renamed(_nested(keys, value), renamed, f"--set {override}")
        _merge(data, keys, value)
    return build(cls, data)


def _nested(keys: list[str], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    _merge(data, keys, value)
    return data


def with_settings(config: T, values: Mapping[str, Any]) -> T:
    """`config` with the dotted settings in `values` set (None values are skipped), each value
    checked against its field's type."""
    for dotted, value in values.items():
        if value is not None:
            config = _replace_at(config, dotted.split("."), value, dotted)
    return config


def _replace_at(config: Any, path: list[str], value: Any, dotted: str) -> Any:
    hints = typing.get_type_hints(type(config))
    name = path[0]
    if name not in hints:
        raise InputError(f"unknown setting {dotted}")
    if len(path) > 1:
        value = _replace_at(getattr(config, name), path[1:], value, dotted)
    else:
        value = _check_type(value, hints[name], dotted)
    return dataclasses.replace(config, **{name: value})


def to_dict(config: Any) -> dict[str, Any]:
    """A config as plain data, for printing and storing with a run."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))
