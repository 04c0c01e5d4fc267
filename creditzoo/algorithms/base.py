"""Base class of every credit-assignment algorithm.

An algorithm is a dataclass: its fields are its parameters (with defaults), so
``build_algorithm("grpo", scale_rewards="none")`` and ``algorithm.scale_rewards=none`` on the
command line set the same thing, and an unknown parameter is caught by name at start-up.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from creditzoo.types import Credit, RolloutBatch

Objective = Literal["pg", "distill"]


class Algorithm:
    """Maps a scored ``RolloutBatch`` to per-token advantages.

    Subclasses are ``@dataclass`` classes decorated with ``@register(name)``.

    Attributes:
        name: registry key, set by ``@register``.
        requires: optional ``RolloutBatch`` fields ``compute`` reads; the loop runs exactly the
            extra forward passes these need. An instance may narrow or widen it from its
            parameters (set it in ``__post_init__``).
        objective: ``"pg"`` — advantages feed the PPO-clip surrogate; ``"distill"`` — the loop
            also adds the distillation loss.
    """

    name: ClassVar[str] = ""
    requires: frozenset[str] = frozenset()
    objective: ClassVar[Objective] = "pg"

    def compute(self, batch: RolloutBatch) -> Credit:
        """Pure: no grad, no I/O, no collectives. Returns advantages of shape ``[N, T]``."""
        raise NotImplementedError

    def check_batch(self, batch: RolloutBatch) -> None:
        """Raise a clear error if a field listed in ``requires`` is missing."""
        missing = sorted(f for f in self.requires if _field(batch, f) is None)
        if missing:
            raise ValueError(
                f"algorithm {self.name!r} requires RolloutBatch field(s) {missing}, which the "
                f"batch does not carry; the training loop fills them from `requires` — if you "
                f"built the batch yourself, pass them."
            )


def _field(batch: RolloutBatch, name: str) -> object:
    if "/" in name:
        return batch.extras.get(name)
    return getattr(batch, name, None)
