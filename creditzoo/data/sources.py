"""Problem sources: where training batches and held-out splits come from.

A source gives the prompts of any training step as a pure function of (seed, step), so a resumed
run sees exactly the data an uninterrupted run would.
"""

from __future__ import annotations

from typing import Any, Protocol

from creditzoo.data import arith
from creditzoo.data.problem import Problem
from creditzoo.errors import ConfigError
from creditzoo.registry import Registry


class ProblemSource(Protocol):
    """Training prompts by step and held-out problems by split (``splits`` names them)."""

    name: str
    splits: tuple[str, ...]

    def train_batch(self, step: int, n: int) -> list[Problem]: ...

    def test_split(self, split: str, n: int) -> list[Problem]: ...


# name → source class, built as ``cls(seed=…, **data.spec)``. Sources register themselves.
SOURCES: Registry[type[ProblemSource]] = Registry("data source", config_key="data")


@SOURCES.register("arith")
class ArithSource:
    """The built-in procedural arithmetic task (``data=arith``)."""

    name = "arith"
    splits = ("id", "ood")

    def __init__(self, seed: int = 0, **spec: Any) -> None:
        self.seed = seed
        self.spec = arith.ArithSpec(**spec)

    def train_batch(self, step: int, n: int) -> list[Problem]:
        return arith.train_problems(step, n, seed=self.seed, spec=self.spec)

    def test_split(self, split: str, n: int) -> list[Problem]:
        if split not in self.splits:
            raise ConfigError(
                f"data=arith has splits {', '.join(self.splits)}, not {split!r} "
                f"(set eval.splits=[{', '.join(self.splits)}])"
            )
        return arith.test_split(split, n)


def build_source(name: str, seed: int, **params: Any) -> ProblemSource:
    """The source registered as ``name``; ``params`` are its ``data.spec`` keys."""
    cls = SOURCES.get(name)
    try:
        return cls(seed=seed, **params)
    except TypeError as err:  # an unknown data.spec key
        raise ConfigError(f"data={name}: bad data.spec ({err})") from None
