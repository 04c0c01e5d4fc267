"""Base class of every credit-assignment algorithm, its registry, and parameter declarations.

An algorithm is a dataclass: its fields are its parameters (with defaults and declared ranges),
so ``build_algorithm("grpo", scale_rewards="none")`` and ``algorithm.scale_rewards=none`` on the
command line set the same thing, and an unknown or out-of-range parameter is caught by name when
the algorithm is built. Everything the loop needs to know about an algorithm is class-level
(``requires``, ``teacher``, ``components``, ``min_group_size``), so ``creditzoo list`` and the
loop read it without instantiating anything, and the loop never asks for an algorithm's name.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from creditzoo.errors import ConfigError
from creditzoo.params import describe, matches, range_violation
from creditzoo.params import param as param  # re-exported: algorithm files declare ranges
from creditzoo.registry import Registry
from creditzoo.types import OPTIONAL_FIELDS, Credit, RolloutBatch

ENTRY_POINT_GROUP = "creditzoo.algorithms"
# A top-k larger than any vocabulary: the teacher's whole next-token distribution.
FULL_VOCABULARY = 2**31 - 1


@dataclass(frozen=True)
class TeacherSpec:
    """What the privileged teacher shows and how its weights follow the policy.

    Attributes:
        context: registered privileged context of ``teacher_logprobs`` (``creditzoo.teacher``),
            e.g. ``"answer"`` (the reference answer) or ``"solution"``.
        weights: ``live`` (the policy), ``fixed`` (the initial policy), ``snapshot`` (copied
            every ``teacher.sync_every`` steps) or ``ema``.
        negative_context: registered wrong-answer context of ``neg_teacher_logprobs``.
        negatives: K, the number of wrong-answer contexts per row.
        top_k: K of ``teacher_topk_ids`` / ``teacher_topk_logprobs`` (0: none;
            ``FULL_VOCABULARY``: every token id, as the scoring pass caps K at the vocabulary).
        ema_decay: d of the ``ema`` weights, θ_T ← d·θ_T + (1−d)·θ after each optimizer step
            (``teacher.ema_decay`` overrides it).
    """

    context: str = "answer"
    weights: str = "snapshot"
    negative_context: str = "wrong_answer"
    negatives: int = 0
    top_k: int = 0
    ema_decay: float = 0.99


class Algorithm:
    """Maps a scored ``RolloutBatch`` to per-token advantages (and optional loss components).

    Subclasses are ``@dataclass`` classes decorated with ``@register(name)``; call an instance on
    a batch (``algorithm(batch)``): the batch is checked against ``requires``, then ``compute``
    runs.

    Class attributes:
        name: registry key, set by ``@register``.
        requires: optional ``RolloutBatch`` fields ``compute`` reads; the loop runs exactly the
            passes that provide them.
        teacher: the privileged teacher the ``teacher_*``/``neg_*`` fields come from.
        components: names of the loss components ``compute`` returns besides the advantages
            (``Credit.components``); a component that reads the student at chosen token ids
            (``DistillTarget``) needs its own training forward after credit.
        min_group_size: group baselines need siblings; 1 for methods that do not.
    """

    name: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset()
    teacher: ClassVar[TeacherSpec | None] = None
    components: ClassVar[frozenset[str]] = frozenset()
    min_group_size: ClassVar[int] = 2

    def __post_init__(self) -> None:
        check_parameters(self)

    def compute(self, batch: RolloutBatch) -> Credit:
        """Pure: no grad, no I/O, no collectives. Returns advantages of shape ``[N, T]``."""
        raise NotImplementedError

    def __call__(self, batch: RolloutBatch) -> Credit:
        self.check_batch(batch)
        return self.compute(batch)

    def teacher_spec(self) -> TeacherSpec | None:
        """The class's ``teacher`` with what this instance's parameters set (e.g. K)."""
        return self.teacher

    def check_batch(self, batch: RolloutBatch) -> None:
        """Raise a clear error if a field listed in ``requires`` is missing."""
        missing = sorted(f for f in self.requires if batch.get(f) is None)
        if missing:
            raise ValueError(
                f"algorithm {self.name!r} requires RolloutBatch field(s) {missing}, which the "
                f"batch does not carry; the training loop fills them from `requires` — if you "
                f"built the batch yourself, pass them."
            )


# ----------------------------------------------------------------------------- parameters
def check_parameters(algo: Algorithm) -> None:
    """Every declared range holds, or one ``ConfigError`` names the parameter and its range."""
    for f in dataclasses.fields(algo):  # type: ignore[arg-type]
        value = getattr(algo, f.name)
        described = range_violation(value, f)
        if described is not None:
            raise ConfigError(
                f"algorithm {algo.name!r}: {f.name} must be {described}, got {value!r} "
                f"(set algorithm.{f.name}=<value>)"
            )


# ----------------------------------------------------------------------------- registry
KNOWN_FIELDS = frozenset(OPTIONAL_FIELDS)


def _check_class(name: str, cls: type) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
        raise TypeError(f"@register({name!r}) expects a subclass of creditzoo Algorithm")
    if not dataclasses.is_dataclass(cls):
        raise TypeError(
            f"@register({name!r}): {cls.__qualname__} must be a @dataclass (its fields are "
            f"its parameters); put @register above @dataclass"
        )
    unknown = sorted(f for f in cls.requires if f not in KNOWN_FIELDS and "/" not in f)
    if unknown:
        raise TypeError(
            f"@register({name!r}): requires names unknown RolloutBatch field(s) {unknown}; "
            f"known: {', '.join(sorted(KNOWN_FIELDS))}, or a namespaced extra 'pkg/field'"
        )
    teacher_fields = {f for f in cls.requires if f.startswith(("teacher_", "neg_"))}
    if teacher_fields and cls.teacher is None:
        raise TypeError(
            f"@register({name!r}): requires {sorted(teacher_fields)} but declares no "
            f"`teacher = TeacherSpec(...)`"
        )


ALGORITHMS: Registry[type[Algorithm]] = Registry(
    "algorithm", config_key="algorithm", entry_point_group=ENTRY_POINT_GROUP, check=_check_class
)

A = TypeVar("A", bound=type[Algorithm])


def register(name: str) -> Callable[[A], A]:
    """Class decorator: ``@register("myalgo")`` above ``@dataclass`` on an ``Algorithm``."""

    def decorate(cls: A) -> A:
        ALGORITHMS.register(name, cls)
        cls.name = name
        return cls

    return decorate


def list_algorithms() -> list[str]:
    """Sorted names of every algorithm, built-in and plugin."""
    return ALGORITHMS.names()


def get_algorithm(name: str) -> type[Algorithm]:
    """The class registered under ``name``; an unknown name lists the known ones."""
    return ALGORITHMS.get(name)


def algorithm_defaults(name: str) -> dict[str, Any]:
    """Parameter names and default values of an algorithm, in declaration order."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(get_algorithm(name)):
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
    """An instance with defaults overridden by ``params``; unknown, mistyped or out-of-range
    ones raise one ``ConfigError`` naming the parameter."""
    cls = get_algorithm(name)
    known = algorithm_defaults(name)
    hints = typing.get_type_hints(cls)
    for key, value in params.items():
        if key not in known:
            close = _close(key, known)
            raise ConfigError(
                f"algorithm {name!r} has no parameter {key!r}.{close} "
                f"Its parameters: {', '.join(known) or '(none)'}"
            )
        if not matches(value, hints.get(key, Any)):
            raise ConfigError(
                f"algorithm {name!r} parameter {key!r} expects {describe(hints[key])}, got "
                f"{value!r} (set algorithm.{key}=<value>)"
            )
    return cls(**params)


def _close(key: str, known: dict[str, Any]) -> str:
    import difflib

    match = difflib.get_close_matches(key, list(known), n=1)
    return f" Did you mean {match[0]!r}?" if match else ""
