"""Declared types and ranges of settings: one rule for algorithm parameters and config keys.

``param(default, ge=…, lt=…, allow=…)`` declares a dataclass field's range next to it;
``range_violation`` says in words what a value breaks; ``matches``/``describe`` check a value
(as YAML or a command line gives it) against a type hint. ``creditzoo.algorithms.base`` and
``creditzoo.config_schema`` both use them, so every setting is checked and described alike.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from typing import Any, Literal


def param(
    default: Any,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    allow: Callable[[Any], bool] | None = None,
    allowed: str | None = None,
) -> Any:
    """A parameter field with its range: ``lambda_init: float = param(0.5, ge=0, le=1)``.

    ``None`` always passes (for optional parameters); ``allow`` is a further predicate whose
    meaning ``allowed`` states in the error (e.g. ``allowed="0 or ≥ 2"``)."""
    bounds = {"ge": ge, "gt": gt, "le": le, "lt": lt}
    meta = {"bounds": {k: v for k, v in bounds.items() if v is not None}}
    if allow is not None:
        meta["allow"] = (allow, allowed or "an allowed value")
    return dataclasses.field(default=default, metadata=meta)


_SYMBOL = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
_HOLDS = {
    "ge": lambda v, b: v >= b,
    "gt": lambda v, b: v > b,
    "le": lambda v, b: v <= b,
    "lt": lambda v, b: v < b,
}


def range_violation(value: Any, f: dataclasses.Field) -> str | None:
    """``"≥ 0 and < 1"`` when ``value`` breaks the range declared on ``f``, else None.

    None, booleans and fields without a declared range always pass; NaN never does."""
    bounds = f.metadata.get("bounds", {})
    allow = f.metadata.get("allow")
    if value is None or isinstance(value, bool) or not (bounds or allow):
        return None
    ok = isinstance(value, (int, float)) or not bounds
    ok = ok and not (isinstance(value, float) and math.isnan(value))
    ok = ok and all(_HOLDS[k](value, b) for k, b in bounds.items())
    if ok and allow is not None:
        ok = bool(allow[0](value))
    if ok:
        return None
    described = " and ".join(f"{_SYMBOL[k]} {b:g}" for k, b in bounds.items())
    if allow is not None:
        described = f"{described} and {allow[1]}" if described else allow[1]
    return described


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as YAML or a command line gives it) is of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin is Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, h) for h in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(map(matches, value, args))
        return all(matches(v, args[0]) for v in value) if args else True
    if origin is dict:
        return isinstance(value, dict)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def describe(hint: Any) -> str:
    """``hint`` in words, for messages."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(h) for h in args)
    if hint is type(None):
        return "null"
    if hint is float:
        return "a number"
    if hint is int:
        return "an integer"
    if hint is bool:
        return "true or false"
    if hint is str:
        return "a string"
    if origin is tuple and args and args[-1] is not Ellipsis:
        return f"[{', '.join(describe(a) for a in args)}]"
    if origin in (list, tuple):
        item = describe(args[0]) if args else "anything"
        return f"a list (each {item})"
    return getattr(hint, "__name__", str(hint))
