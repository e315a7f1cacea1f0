"""Checks that a program did not tamper with what the test code relies on.

Two checks, both made inside the program's own process (where assert-style tests must run):

- `Baseline` (built once in the zygote) and `PreludeSnapshot` (per run): the identity of every
  function and class in `builtins`, of the attributes of the preloaded standard modules that the
  tests or the prelude name, and of what the prelude defined (each prelude class's attributes and
  each prelude function's code). A program that patches `builtins.abs`, `math.isclose` or the
  prelude's `is_same_tree` is reported. Only named module attributes are compared because every
  object a forked child touches costs it a copied page.
- `suspicious_value`: a value returned to the tests must not contain an instance of a class whose
  comparison, truth or arithmetic methods come from code the program made (an "always equal"
  object). Classes from real source files (the standard library) and from the prelude are fine.
  The screen reads classes through `type`'s own descriptors and objects through the garbage
  collector's view, and compares types by identity, so a metaclass's `__eq__`, properties named
  `__dict__`, `__mro__` or `__flags__`, or a method that claims another `__class__` hide nothing.

A program that rewrites the interpreter's memory (ctypes), or compiles its class under a fake file
name, can get past these; that is listed in `srpo.sandbox`'s "does not protect against".
"""

from __future__ import annotations

import builtins
import ctypes
import functools
import gc
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

PROGRAM_FILE = "<program>"
PRELUDE_FILE = "<prelude>"
TESTS_FILE = "<tests>"
_TRUSTED_PSEUDO_FILES = (PRELUDE_FILE, TESTS_FILE)

GUARDED_DUNDERS = frozenset(
    {
        "__eq__",
        "__ne__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
        "__bool__",
        "__len__",
        "__hash__",
        "__abs__",
        "__add__",
        "__radd__",
        "__sub__",
        "__rsub__",
        "__float__",
        "__int__",
        "__index__",
        "__round__",
        "__contains__",
        "__iter__",
        "__getitem__",
        "__str__",
        "__repr__",
    }
)
_PLAIN = (int, float, complex, str, bytes, bool, type(None))
_HEAPTYPE = 1 << 9
_MAX_VISITS = 200_000


def _watchable(value: Any) -> bool:
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type, types.ModuleType))


def _watched(namespace: Mapping[str, Any]) -> dict[str, Any]:
    # The objects themselves, not their ids: a freed original could hand its id to a patch.
    return {name: value for name, value in namespace.items() if _watchable(value)}


def names_used(code: types.CodeType) -> set[str]:
    """Every global or attribute name that `code` and the code nested in it mention."""
    found, stack = set(), [code]
    while stack:
        current = stack.pop()
        found.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return found


def _version_tag(mapping: dict[str, Any]) -> Any:
    """A live view of `mapping`'s version tag: a dict's ob_refcnt, ob_type and ma_used come first."""
    return ctypes.c_uint64.from_address(id(mapping) + 3 * ctypes.sizeof(ctypes.c_ssize_t))


def dict_version_reader() -> Callable[[dict[str, Any]], int] | None:
    """A reader of a dict's version tag (PEP 509), which CPython 3.11 and 3.12 change on every
    change to a dict; None on other interpreters, or where the field is not where expected."""
    if sys.implementation.name != "cpython" or sys.version_info[:2] not in ((3, 11), (3, 12)):
        return None

    def version(mapping: dict[str, Any]) -> int:
        return _version_tag(mapping).value

    probe: dict[str, Any] = {}
    before = version(probe)
    probe["changed"] = True
    changed = version(probe)
    return version if changed != before and version(probe) == changed else None


class Baseline:
    """Builtins and the preloaded modules as they were in the zygote, before any program ran.

    Comparing every builtin touches ~150 objects, and so copies the pages they live on, in each
    child; where the interpreter keeps a version tag on dicts, an unchanged tag on `builtins`
    (recorded by `seal`) stands for that comparison, which runs only when the tag moved."""

    def __init__(self, module_names: Iterable[str]) -> None:
        self.builtins = vars(builtins).copy()
        self._watched_builtins = _watched(self.builtins)
        self._tags_readable = dict_version_reader() is not None
        self._sealed_version: int | None = None
        self._builtins_dict = vars(builtins)
        self._builtins_tag: Any = None  # a view of the builtins' version tag (`seal`)
        self.modules = {name: sys.modules[name] for name in module_names if name in sys.modules}
        self._module_items = {name: _watched(vars(module)) for name, module in self.modules.items()}

        self._module_watches: dict[frozenset[str], tuple[tuple[str, str, Any], ...]] = {}
        self._test_modules: dict[frozenset[str], dict[str, types.ModuleType]] = {}

    def test_modules(self, names: frozenset[str]) -> dict[str, types.ModuleType]:
        """The preloaded modules among `names` (those the tests get as the zygote loaded them);
        worked out in the zygote, like `module_watches`."""
        found = self._test_modules.get(names)
        if found is None:
            found = self._test_modules[names] = {
                name: self.modules[name] for name in names.intersection(self.modules)
            }
        return found

    def module_watches(self, names: frozenset[str]) -> tuple[tuple[str, str, Any], ...]:
        """(module, attribute, original) for the preloaded modules' attributes among `names`;
        worked out in the zygote (see `changes`), so a child only compares."""
        found = self._module_watches.get(names)
        if found is None:
            found = tuple(
                (module_name, name, before[name])
                for module_name, before in self._module_items.items()
                for name in sorted(names.intersection(before))
            )
            self._module_watches[names] = found
        return found

    def seal(self) -> None:
        """Record the version tag of `builtins` as the zygote will fork with it."""
        if self._tags_readable:
            # The view is made here: a child only reads it (making one would cost it copied pages).
            self._builtins_tag = _version_tag(self._builtins_dict)
            self._sealed_version = self._builtins_tag.value

    def changes(self, names: frozenset[str]) -> list[str]:
        """Builtins that now point elsewhere, and module attributes among `names` that do."""
        # The module objects the zygote loaded (what the tests get), read through ModuleType's own
        # `__dict__`: a program can swap `sys.modules` entries, or a module's `__class__` for one
        # with a `__dict__` property, but not these.
        now = _MODULE_DICT_OF(builtins)
        unchanged = (
            self._builtins_tag is not None
            and now is self._builtins_dict
            and self._builtins_tag.value == self._sealed_version
        )
        found = [] if unchanged else _changed("builtins", self._watched_builtins, now)
        for module_name, name, before in self.module_watches(names):
            if _MODULE_DICT_OF(self.modules[module_name]).get(name) is not before:
                found.append(f"{module_name}.{name}")
        return found


class PreludeSnapshot:
    """What the prelude defined, taken after it ran and before the program does."""

    def __init__(self, prelude: Mapping[str, Any]) -> None:
        self.names = _watched(prelude)
        # Only what the prelude itself defined (its module is the run's `__main__`); imported
        # classes and functions are covered by the baseline.
        self._parts = {
            name: _parts(value)
            for name, value in self.names.items()
            if getattr(value, "__module__", None) == "__main__"
        }

    def changes(self) -> list[str]:
        found = []
        for name, parts in self._parts.items():
            found += _changed(f"prelude.{name}", parts, _parts(self.names[name]))
        return found


def _parts(value: Any) -> dict[str, Any]:
    if isinstance(value, types.FunctionType):
        return {"__code__": value.__code__, "__defaults__": value.__defaults__}
    if isinstance(value, type):
        return dict(vars(value))
    return {}


def _changed(prefix: str, before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    return [f"{prefix}.{name}" for name, value in before.items() if name not in now or now[name] is not value]


# What the screen reads of a class, through `type`'s own descriptors: a metaclass of the program's
# can put properties named `__flags__`, `__mro__` or `__dict__` in front of the real ones, and
# `in` or `==` on a class calls its metaclass's `__eq__`. Only identities and these are trusted.
_FLAGS_OF = type.__dict__["__flags__"].__get__
_MRO_OF = type.__dict__["__mro__"].__get__
_NAMESPACE_OF = type.__dict__["__dict__"].__get__
_NAME_OF = type.__dict__["__qualname__"].__get__
_MODULE_DICT_OF = types.ModuleType.__dict__["__dict__"].__get__
_PLAIN_IDS = frozenset(map(id, _PLAIN))
_C_LEVEL_IDS = frozenset(
    map(id, (types.WrapperDescriptorType, types.MethodDescriptorType, types.BuiltinFunctionType,
             types.MethodWrapperType, type(None)))
)  # fmt: skip


def is_plain(value: Any) -> bool:
    """`value` is an int, float, complex, str, bytes, bool or None (exactly, not a subclass)."""
    return id(type(value)) in _PLAIN_IDS


def _made_by_program(attribute: Any) -> bool:
    kind = type(attribute)  # not isinstance: an object can claim any `__class__`
    if kind is staticmethod or kind is classmethod:
        attribute = attribute.__func__
        kind = type(attribute)
    if kind is types.FunctionType:
        filename = attribute.__code__.co_filename
        # The standard library's frozen modules (`_collections_abc`, `importlib._bootstrap`, ...)
        # are "<frozen NAME>": trusted like real files, and as forgeable (see the module notes).
        return (
            filename.startswith("<")
            and not filename.startswith("<frozen ")
            and filename not in _TRUSTED_PSEUDO_FILES
        )
    # C-level slots and methods behave as their type says; anything else (a partial, a callable
    # object) was put there by Python code and is not trusted.
    return id(kind) not in _C_LEVEL_IDS


def _class_attribute(cls: type, name: str) -> Any:
    for klass in _MRO_OF(cls):
        namespace = _NAMESPACE_OF(klass)
        if name in namespace:
            return namespace[name]
    return None


def needs_screen(value: Any) -> bool:
    """Whether a name the program defined reaches the tests screened (see `harness.guarded`):
    functions and methods, partials, and objects whose `__call__` the program wrote. Classes stay
    as they are (tests use them as types), and so do callables of the library's own."""
    kind = type(value)
    if kind is types.FunctionType or kind is types.MethodType or kind is functools.partial:
        return True
    if not _FLAGS_OF(kind) & _HEAPTYPE or issubclass(kind, type):
        return False
    call = _class_attribute(kind, "__call__")
    return call is not None and _made_by_program(call)


def suspicious_class(cls: type) -> str | None:
    for klass in _MRO_OF(cls):
        if not _FLAGS_OF(klass) & _HEAPTYPE:
            continue
        namespace = _NAMESPACE_OF(klass)
        for name in GUARDED_DUNDERS:
            if name in namespace and _made_by_program(namespace[name]):
                return f"returned a {_NAME_OF(cls)} whose {name} was written by the program"
    return None


def suspicious_value(value: Any) -> str | None:
    """Why `value` could fool a comparison in the tests, or None when it is honest data."""
    stack, seen, visits = [value], set(), 0
    while stack and visits < _MAX_VISITS:
        item = stack.pop()
        visits += 1
        if is_plain(item) or id(item) in seen:
            continue
        kind = type(item)
        seen.add(id(item))
        heap_type = _FLAGS_OF(kind) & _HEAPTYPE
        if heap_type:
            reason = suspicious_class(kind)
            if reason:
                return reason
        # Read through the base types' own methods, so no method of the program runs here.
        if issubclass(kind, dict):
            stack.extend(dict.keys(item))
            stack.extend(dict.values(item))
        elif issubclass(kind, (list, tuple)):
            stack.extend(list.__iter__(item) if issubclass(kind, list) else tuple.__iter__(item))
        elif issubclass(kind, (set, frozenset)):
            stack.extend(set.__iter__(item) if issubclass(kind, set) else frozenset.__iter__(item))
        if heap_type:
            # What the object holds (its attributes, wherever they are stored), as the garbage
            # collector sees it: no `__dict__` property of the program's stands in front.
            stack.extend(gc.get_referents(item))
    return None
