"""The contract between the training loop and credit-assignment algorithms.

N = prompts × group size rows, T = longest response in the batch. Every tensor is detached.
Only ``rewards``, ``group_ids``, ``response_mask`` and ``logprobs`` are always present; the loop
fills an optional field exactly when the algorithm lists it in ``Algorithm.requires``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from torch import Tensor

OPTIONAL_FIELDS = (
    "teacher_logprobs",
    "neg_teacher_logprobs",
    "neg_mask",
    "entropies",
    "teacher_entropies",
    "ref_logprobs",
)


@dataclass(frozen=True)
class RolloutBatch:
    """One optimizer step's rollouts, scored.

    Attributes:
        rewards: ``[N]`` float verifier reward (1.0 correct, 0.0 wrong by default).
        group_ids: ``[N]`` long; rows sampled from the same prompt share an id.
        response_mask: ``[N, T]`` bool; True on generated tokens (EOS included).
        logprobs: ``[N, T]`` behaviour-policy log p(y_t | x, y_<t) of the sampled tokens.
        step: optimizer step, for schedules.
        teacher_logprobs: ``[N, T]`` the same tokens scored with privileged context in the prompt.
        neg_teacher_logprobs: ``[N, K, T]`` the same tokens under K wrong-answer contexts.
        neg_mask: ``[N, K]`` bool; which of the K wrong contexts exist.
        entropies: ``[N, T]`` student next-token entropy (nats).
        teacher_entropies: ``[N, T]`` teacher next-token entropy (nats).
        ref_logprobs: ``[N, T]`` frozen reference model log-probs.
        extras: plugin-defined tensors, keys namespaced ``"pkg/field"``.
    """

    rewards: Tensor
    group_ids: Tensor
    response_mask: Tensor
    logprobs: Tensor
    step: int = 0
    teacher_logprobs: Tensor | None = None
    neg_teacher_logprobs: Tensor | None = None
    neg_mask: Tensor | None = None
    entropies: Tensor | None = None
    teacher_entropies: Tensor | None = None
    ref_logprobs: Tensor | None = None
    extras: Mapping[str, Tensor] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return int(self.rewards.shape[0])

    def replace(self, **changes: object) -> RolloutBatch:
        return replace(self, **changes)


@dataclass(frozen=True)
class Credit:
    """What an algorithm returns.

    Attributes:
        advantages: ``[N, T]`` float per-token advantage, exactly 0.0 where ``response_mask`` is
            False; it multiplies the PPO-clip surrogate.
        metrics: scalars logged as ``algo/<key>`` each step.
    """

    advantages: Tensor
    metrics: Mapping[str, float] = field(default_factory=dict)
