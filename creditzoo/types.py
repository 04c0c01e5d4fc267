"""The contract between the training loop and credit-assignment algorithms.

N = prompts × group size rows, T = longest response in the batch. Every tensor is detached.
Only ``rewards``, ``group_ids``, ``response_mask`` and ``logprobs`` are always present; the loop
fills an optional field exactly when the algorithm lists it in ``Algorithm.requires``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from torch import Tensor

OPTIONAL_FIELDS = (
    "teacher_logprobs",
    "teacher_mask",
    "neg_teacher_logprobs",
    "neg_mask",
    "entropies",
    "teacher_entropies",
    "teacher_topk_ids",
    "teacher_topk_logprobs",
    "ref_logprobs",
    "process_labels",
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
        teacher_mask: ``[N]`` bool; False where the positive context had nothing to show for
            the row (e.g. no other correct sibling) and ``teacher_logprobs`` used the answer.
        neg_teacher_logprobs: ``[N, K, T]`` the same tokens under K wrong-answer contexts.
        neg_mask: ``[N, K]`` bool; which of the K wrong contexts exist.
        entropies: ``[N, T]`` student next-token entropy (nats).
        teacher_entropies: ``[N, T]`` teacher next-token entropy (nats).
        teacher_topk_ids: ``[N, T, K]`` long; the teacher's K most likely next tokens.
        teacher_topk_logprobs: ``[N, T, K]`` the teacher's log-probs of those tokens.
        ref_logprobs: ``[N, T]`` frozen reference model log-probs.
        process_labels: ``[N, T]`` long, from a task that checks steps: 1 on the correct prefix
            (every token of a correct response), 0 on the first wrong step, −1 after it, on
            padding and where no step could be located (``creditzoo.process``).
        extras: plugin-defined tensors, keys namespaced ``"pkg/field"``.
    """

    rewards: Tensor
    group_ids: Tensor
    response_mask: Tensor
    logprobs: Tensor
    step: int = 0
    teacher_logprobs: Tensor | None = None
    teacher_mask: Tensor | None = None
    neg_teacher_logprobs: Tensor | None = None
    neg_mask: Tensor | None = None
    entropies: Tensor | None = None
    teacher_entropies: Tensor | None = None
    teacher_topk_ids: Tensor | None = None
    teacher_topk_logprobs: Tensor | None = None
    ref_logprobs: Tensor | None = None
    process_labels: Tensor | None = None
    extras: Mapping[str, Tensor] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return int(self.rewards.shape[0])

    def replace(self, **changes: object) -> RolloutBatch:
        return replace(self, **changes)

    def get(self, name: str) -> object:
        """A field by name; ``"pkg/field"`` names are looked up in ``extras``."""
        if "/" in name:
            return self.extras.get(name)
        return getattr(self, name, None)


# (student log-probs at ``ids`` [n, T, K] with grad, target log-probs [n, T, K]) → ℓ [n, T]
Divergence = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class DistillTarget:
    """A loss component: pull the student's next-token distribution toward a target's.

    The loop reads the student's log-probs at ``ids`` in the training forward (with grad) and adds
    Σ_t w[i, t]·ℓ[i, t]·weight[i, t] to the loss, w being the same global-batch normaliser as the
    policy-gradient term's (so ``loss.agg`` applies to both).

    Attributes:
        ids: ``[N, T, K]`` long token ids of the support (e.g. the teacher's top-k); None: the
            sampled token y_t itself (K = 1, the surrogate's own log-prob; no extra gather).
        logprobs: ``[N, T, K]`` target log-probs at those ids (no grad).
        weight: ``[N, T]`` per-token weight, 0 off the response mask.
        divergence: ℓ = divergence(student [n, T, K], target [n, T, K]) → ``[n, T]``.
        monitors: further per-token figures of the same shape, computed without grad and
            aggregated like ℓ but never optimised; logged as ``loss/<component>_<key>`` (e.g.
            OPSD's unclipped KL(teacher‖student) as ``loss/distill_kl``).
        is_clip: when set, ℓ is multiplied by the detached importance ratio of the sampled
            token, min(exp(logp − old_logp), is_clip) (SDPO's IS-corrected distillation).
    """

    ids: Tensor | None
    logprobs: Tensor
    weight: Tensor
    divergence: Divergence
    monitors: Mapping[str, Divergence] = field(default_factory=dict)
    is_clip: float | None = None


@dataclass(frozen=True)
class Credit:
    """What an algorithm returns.

    Attributes:
        advantages: ``[N, T]`` float per-token advantage, exactly 0.0 where ``response_mask`` is
            False; it multiplies the PPO-clip surrogate.
        metrics: scalars logged as ``algo/<key>`` each step.
        components: further named loss terms (``losses.py`` adds each, normalised over the
            global batch like the surrogate), e.g. ``{"distill": DistillTarget(...)}``; their
            values are logged as ``loss/<name>``.
    """

    advantages: Tensor
    metrics: Mapping[str, float] = field(default_factory=dict)
    components: Mapping[str, DistillTarget] = field(default_factory=dict)
