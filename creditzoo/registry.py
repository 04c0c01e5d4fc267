"""One registry idiom for every pluggable part: name → object, close-match errors, plugins.

Algorithms, rollout engines, tasks, models, verifiers and privileged teacher contexts each keep
one ``Registry``. The module that defines a part imports its registry and registers itself; the
registry never imports the parts (this file imports only the standard library), so there is no
import circle. A registry may name an entry-point group: installed packages that declare it are
imported once, on the first lookup, and register their parts the same way.

    ENGINES = Registry("rollout engine", config_key="rollout")
    @ENGINES.register("hf")
    class HFSampler: ...
    ENGINES.get("hf")      # the class; ENGINES.get("hg") → "unknown rollout engine 'hg'. Did you
                           # mean 'hf'? Known: hf, static, vllm (set rollout=<name>)."
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any, Generic, TypeVar, overload

from creditzoo.errors import PluginLoadError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of one kind of part.

    Args:
        kind: what an entry is, for messages ("algorithm", "rollout engine").
        config_key: the config group that selects an entry, for the hint in errors.
        entry_point_group: installed packages declaring this group are imported on first lookup.
        check: called as ``check(name, obj)`` at registration; raises on a malformed entry.
    """

    def __init__(
        self,
        kind: str,
        *,
        config_key: str | None = None,
        entry_point_group: str | None = None,
        check: Callable[[str, T], None] | None = None,
    ) -> None:
        self.kind = kind
        self.config_key = config_key
        self.entry_point_group = entry_point_group
        self._check = check
        self._entries: dict[str, T] = {}
        self._plugins = "unloaded"  # unloaded → loading → loaded; a failure leaves "unloaded"

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, obj: T) -> T: ...
    def register(self, name: str, obj: Any = None) -> Any:
        """``@registry.register(name)`` as a decorator, or ``registry.register(name, obj)``.

        Registering the same object (same module and qualified name) again is a no-op, so a
        module imported twice does not fail; another object under a taken name does."""

        def add(item: T) -> T:
            if self._check is not None:
                self._check(name, item)
            existing = self._entries.get(name)
            if existing is not None and _qualname(existing) != _qualname(item):
                raise ValueError(
                    f"{self.kind} name {name!r} is already registered by {_qualname(existing)}; "
                    f"{_qualname(item)} cannot take it — choose another name"
                )
            self._entries[name] = item
            return item

        return add if obj is None else add(obj)

    def registered(self, name: str) -> T | None:
        """The entry under ``name`` so far, or None (plugins are not loaded for this)."""
        return self._entries.get(name)

    def unregister(self, name: str) -> None:
        """Remove an entry (tests that register throw-away parts clean up with this)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry registered under ``name``; an unknown name lists the known ones."""
        self.load_plugins()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.unknown_message(name)) from None

    def unknown_message(self, name: object, config_key: str | None = None) -> str:
        """The error for an unknown ``name``; ``config_key`` (default: the registry's) is the
        setting named in the hint."""
        config_key = config_key or self.config_key
        close = difflib.get_close_matches(str(name), list(self._entries), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        how = f" (set {config_key}=<name>)" if config_key else ""
        plugin = (
            f" A plugin package must be installed and declare the '{self.entry_point_group}' "
            f"entry point."
            if self.entry_point_group
            else ""
        )
        return (
            f"unknown {self.kind} {name!r}.{hint} Known {self.kind}s: "
            f"{', '.join(self.names(load=False)) or '(none)'}{how}.{plugin}"
        )

    def names(self, *, load: bool = True) -> list[str]:
        """Sorted names of every entry, plugins included."""
        if load:
            self.load_plugins()
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return [(name, self._entries[name]) for name in self.names()]

    def __contains__(self, name: object) -> bool:
        self.load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def load_plugins(self) -> None:
        """Import every module declared under the entry-point group, once."""
        if self.entry_point_group is None or self._plugins != "unloaded":
            return  # "loading": a plugin asked for the registry while it was being imported
        self._plugins = "loading"
        try:
            for ep in metadata.entry_points(group=self.entry_point_group):
                self._load_entry_point(ep)
        except BaseException:
            self._plugins = "unloaded"  # fail again, loudly, on the next call
            raise
        self._plugins = "loaded"

    def _load_entry_point(self, ep: metadata.EntryPoint) -> None:
        package = ep.dist.name if ep.dist is not None else "an unknown package"
        before = set(self._entries)
        try:
            ep.load()
        except Exception as err:
            raise PluginLoadError(
                f"creditzoo plugin {ep.name!r} = {ep.value!r} from package {package!r} failed to "
                f"load: {type(err).__name__}: {err}. Fix or uninstall that package."
            ) from err
        if ep.name not in self._entries:
            added = sorted(set(self._entries) - before)
            raise PluginLoadError(
                f"entry point {ep.name!r} ({ep.value}, package {package!r}) registered "
                f"{added or 'nothing'} instead of {ep.name!r}: the entry-point name must equal "
                f"the registered {self.kind} name"
            )


def lazy(target: str) -> Callable[..., Any]:
    """A factory that imports ``"package.module:attr"`` on first call.

    For parts with heavy or optional dependencies (vLLM): registering them costs nothing, and a
    missing install fails only when the part is used."""

    def factory(*args: Any, **kwargs: Any) -> Any:
        return resolve(target)(*args, **kwargs)

    factory.__qualname__ = factory.__name__ = f"lazy({target})"
    factory.target = target  # type: ignore[attr-defined]
    return factory


def resolve(target: str) -> Any:
    """The object named by ``"package.module:attr"``."""
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _qualname(obj: object) -> str:
    target = getattr(obj, "target", None)
    if isinstance(target, str):
        return target
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


__all__ = ["Registry", "lazy", "resolve"]
