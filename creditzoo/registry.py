"""Algorithm registry: built-ins and installed plugins found the same way.

Built-ins register when ``creditzoo.algorithms`` is imported; a third-party package declares
``[project.entry-points."creditzoo.algorithms"] myalgo = "mypkg.myalgo"`` and decorates its class
with ``@register("myalgo")``. Both then work in ``creditzoo fit algorithm=myalgo``, ``creditzoo
list``, the contract suite (``creditzoo.testing``) and the leaderboard.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

from creditzoo.algorithms.base import Algorithm

ENTRY_POINT_GROUP = "creditzoo.algorithms"

_REGISTRY: dict[str, type[Algorithm]] = {}
_plugins_state = "unloaded"  # unloaded → loading → loaded; a failure leaves it "unloaded"

A = TypeVar("A", bound=type[Algorithm])


class PluginLoadError(RuntimeError):
    """An installed plugin could not be imported or registered under its entry-point name."""


class UnknownAlgorithmError(KeyError):
    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


def register(name: str) -> Callable[[A], A]:
    """Class decorator: ``@register("myalgo")`` on a dataclass subclass of ``Algorithm``."""

    def decorate(cls: A) -> A:
        if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
            raise TypeError(f"@register({name!r}) expects a subclass of creditzoo Algorithm")
        if not dataclasses.is_dataclass(cls):
            raise TypeError(
                f"@register({name!r}): {cls.__qualname__} must be a @dataclass (its fields are "
                f"its parameters); put @register above @dataclass"
            )
        existing = _REGISTRY.get(name)
        if existing is not None and _qualname(existing) != _qualname(cls):
            raise ValueError(
                f"algorithm name {name!r} is already registered by {_qualname(existing)}; "
                f"{_qualname(cls)} cannot take it — choose another name"
            )
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def load_plugins() -> None:
    """Import every module declared under the ``creditzoo.algorithms`` entry-point group once."""
    global _plugins_state
    if _plugins_state != "unloaded":  # "loading": a plugin asked for the registry while importing
        return
    _plugins_state = "loading"
    try:
        import creditzoo.algorithms  # noqa: F401  (built-ins register on import)

        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            _load_entry_point(ep)
    except BaseException:
        _plugins_state = "unloaded"  # fail again, loudly, on the next call
        raise
    _plugins_state = "loaded"


def _load_entry_point(ep: metadata.EntryPoint) -> None:
    package = ep.dist.name if ep.dist is not None else "an unknown package"
    before = set(_REGISTRY)
    try:
        ep.load()
    except Exception as err:
        raise PluginLoadError(
            f"creditzoo plugin {ep.name!r} = {ep.value!r} from package {package!r} failed to "
            f"load: {type(err).__name__}: {err}. Fix or uninstall that package."
        ) from err
    if ep.name not in _REGISTRY:
        added = sorted(set(_REGISTRY) - before)
        raise PluginLoadError(
            f"entry point {ep.name!r} ({ep.value}, package {package!r}) registered "
            f"{added or 'nothing'} instead of {ep.name!r}: the entry-point name must equal the "
            f"@register name"
        )


def list_algorithms() -> list[str]:
    """Sorted names of every algorithm, built-in and plugin."""
    load_plugins()
    return sorted(_REGISTRY)


def get_algorithm(name: str) -> type[Algorithm]:
    """The class registered under ``name``; an unknown name lists the known ones."""
    load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownAlgorithmError(
            f"unknown algorithm {name!r}.{hint} Known algorithms: {', '.join(sorted(_REGISTRY))}. "
            f"A plugin package must be installed and declare the "
            f"'{ENTRY_POINT_GROUP}' entry point."
        ) from None


def algorithm_defaults(name: str) -> dict[str, Any]:
    """Parameter names and default values of an algorithm, in declaration order."""
    cls = get_algorithm(name)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = None
    return out


def build_algorithm(name: str, **params: Any) -> Algorithm:
    """An instance with defaults overridden by ``params``; unknown or mistyped ones are errors."""
    cls = get_algorithm(name)
    known = algorithm_defaults(name)
    hints = typing.get_type_hints(cls)
    for key, value in params.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"algorithm {name!r} has no parameter {key!r}.{hint} "
                f"Its parameters: {', '.join(known) or '(none)'}"
            )
        _check_type(name, key, value, hints.get(key))
    return cls(**params)


def _check_type(algo: str, key: str, value: Any, hint: Any) -> None:
    if hint is None or _matches(value, hint):
        return
    raise TypeError(
        f"algorithm {algo!r} parameter {key!r} expects {_describe(hint)}, got {value!r}"
    )


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # generics we do not check (e.g. tuple[int, ...])


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    return getattr(hint, "__name__", str(hint))


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
