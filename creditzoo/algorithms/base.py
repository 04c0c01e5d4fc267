"""Base class of every credit-assignment algorithm.

An algorithm is a dataclass: its fields are its parameters (with defaults), so
``build_algorithm("grpo", scale_rewards="none")`` and ``algorithm.scale_rewards=none`` on the
command line set the same thing, and an unknown parameter is caught by name at start-up.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from torch import Tensor

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
            also adds ``distill_loss`` (full-distribution distillation, e.g. OPSD).
    """

    name: ClassVar[str] = ""
    requires: frozenset[str] = frozenset()
    objective: Objective = "pg"

    # What the teacher passes look like, when ``requires`` asks for them. Plain attributes: a
    # subclass may turn any of them into a parameter by declaring it as a dataclass field.
    teacher_context: str = "answer"  # privileged context of teacher_logprobs (rollout/teacher.py)
    teacher_weights: str = "snapshot"  # live | fixed | snapshot | ema (overridable by config)
    num_negatives: int = 1  # K of neg_teacher_logprobs (wrong-answer contexts)
    teacher_top_k: int = 0  # K of the teacher's top-k distribution ("teacher_topk" field)
    min_group_size: int = 2  # group baselines need siblings; 1 for methods that do not

    def compute(self, batch: RolloutBatch) -> Credit:
        """Pure: no grad, no I/O, no collectives. Returns advantages of shape ``[N, T]``."""
        raise NotImplementedError

    def distill_loss(self, student_topk: Tensor, teacher_topk: Tensor) -> Tensor:
        """Per-token distillation loss ``[n, T]`` for ``objective == "distill"`` (with grad).

        Args:
            student_topk: ``[n, T, K]`` student log-probs (full-vocabulary normalised, with grad)
                at the teacher's top-K token ids.
            teacher_topk: ``[n, T, K]`` teacher log-probs at the same ids (no grad).
        """
        raise NotImplementedError(f"algorithm {self.name!r} has objective {self.objective!r}")

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
    if name == "teacher_topk":  # stored as two extras tensors
        return batch.extras.get(TEACHER_TOPK_LOGPROBS)
    if "/" in name:
        return batch.extras.get(name)
    return getattr(batch, name, None)


# The teacher's top-k next-token distribution at every response position, filled when an
# algorithm requires "teacher_topk": ids [N, T, K] (long) and log-probs [N, T, K].
TEACHER_TOPK_IDS = "teacher/topk_ids"
TEACHER_TOPK_LOGPROBS = "teacher/topk_logprobs"
