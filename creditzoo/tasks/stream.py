"""Training batches from a finite dataset: epochs are seeded permutations.

The training problems are read as one endless sequence: epoch e is a permutation of the dataset
drawn from ``(seed, e)`` alone, and step s takes positions ``s·n … s·n+n−1`` of the concatenated
epochs (a batch may straddle an epoch boundary). So the batch of step s is a pure function of
(seed, s): a resumed run, and a run on any number of ranks, sees exactly the prompts of one
uninterrupted process.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import lru_cache

from creditzoo.data.problem import Problem


class EpochStream:
    """``train_batch(step, n)`` over ``problems`` in seeded epochs."""

    def __init__(self, problems: Sequence[Problem], seed: int) -> None:
        if not problems:
            raise ValueError("a training split needs at least one problem")
        self.problems = list(problems)
        self.seed = seed
        self._order = lru_cache(maxsize=4)(self._permutation)

    def _permutation(self, epoch: int) -> list[int]:
        order = list(range(len(self.problems)))
        random.Random(f"epoch-{self.seed}-{epoch}").shuffle(order)
        return order

    def position(self, k: int) -> Problem:
        """The problem at position ``k`` of the endless sequence."""
        epoch, i = divmod(k, len(self.problems))
        return self.problems[self._order(epoch)[i]]

    def train_batch(self, step: int, n: int) -> list[Problem]:
        return [self.position(step * n + j) for j in range(n)]

    def epoch(self, step: int, n: int) -> float:
        """Epochs completed after ``step`` (for logging)."""
        return (step + 1) * n / len(self.problems)
