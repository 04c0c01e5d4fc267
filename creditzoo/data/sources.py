"""Problem sources: where training batches and held-out splits come from.

A source gives the prompts of any training step as a pure function of (seed, step), so a resumed
run sees exactly the data an uninterrupted run would.
"""

from __future__ import annotations

from typing import Any, Protocol

from creditzoo.data import arith
from creditzoo.data.problem import Problem


class ProblemSource(Protocol):
    name: str

    def train_batch(self, step: int, n: int) -> list[Problem]: ...

    def test_split(self, split: str, n: int) -> list[Problem]: ...


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
            raise ValueError(f"data=arith has splits {self.splits}, not {split!r}")
        return arith.test_split(split, n)


SOURCES = {"arith": ArithSource}


def build_source(name: str, seed: int, **params: Any) -> ProblemSource:
    if name not in SOURCES:
        raise ValueError(f"unknown data {name!r}; known: {', '.join(sorted(SOURCES))}")
    return SOURCES[name](seed=seed, **params)
