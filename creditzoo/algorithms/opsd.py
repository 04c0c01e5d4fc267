"""OPSD — on-policy self-distillation from the same model given the reference solution.

Paper: "Self-Distilled Reasoner: On-Policy Self-Distillation for Large Language Models",
arXiv 2601.18734 (code: siyan-zhao/OPSD ``opsd_trainer.py``, ``scripts/run_opsd.sh``; the RLCSD
configuration follows THU-BPM/RLCSD ``compute_policy_loss_opsd``, research/rlcsd-exact.md §3).

Formula, per response token t (s = student, T = teacher with the solution in its prompt):
  ``opsd`` (the OPSD paper's objective): advantages are 0 and the loss gets the component
    "distill", the generalized JSD (``creditzoo.losses.generalized_jsd``) over the teacher's
    whole next-token distribution:
      D_t = β·KL(p_T ‖ M) + (1−β)·KL(p_S ‖ M),   M = (1−β)·p_S + β·p_T,   β = 0.5
    (β = 0: forward KL(T‖S); β = 1: reverse KL(S‖T)); no clip.
  ``opsd-rlcsd`` (RLCSD's OPSD configuration): β = 0 (forward KL), support = the teacher's
    top-100 ids + a tail bucket log(1 − Σ_k p), and ``token_clip`` = 0.05 applied per position by
    rescaling: ℓ_t = D_t·sg(min(1, c/D_t)) (value min(D_t, c), gradient ∇D_t times a factor in
    (0, 1], so the clip can neither stop nor reverse the pull toward the teacher).
  ``opsd-sampled`` (sampled token): Â[i, t] = clip(teacher_logprobs − logprobs, ±advantage_clip),
    the negative per-token reverse-KL sample as an advantage (the "Tinker"/OPD form).
No reward is used in any of them.

Shapes and reads: response_mask [N, T]; opsd, opsd-rlcsd: teacher_topk_ids,
teacher_topk_logprobs [N, T, K] (K = V, the vocabulary, for opsd); opsd-sampled: logprobs,
teacher_logprobs [N, T]. Returns advantages [N, T] (0 off-mask; all 0 for opsd and opsd-rlcsd,
whose loss is the ``DistillTarget`` component: ids and teacher log-probs [N, T, K], weight = the
response mask). The component's monitor ``kl`` is the unclipped KL(teacher‖student) on the same
support (exact for the full vocabulary; on top-k + tail it is the KL between the bucketed
distributions, a lower bound); the loss logs it every step as ``loss/distill_kl``, aggregated
like the loss (token mean by default).
Reduces to: with β = 0 and no clip, forward KL(T‖S) (GKD's supervised KD on student samples);
with advantage_clip=None, opsd-sampled's advantage is exactly Δ = teacher_logprobs − logprobs.

Deviations:
- opsd: none in the objective (full vocabulary, β = 0.5, no clip, as ``scripts/run_opsd.sh`` of
  10 Mar 2026). The teacher context is ours: the task's ``solution`` template, not the paper's
  prompt wording. The "fixed" teacher is the initial policy, as OPSD's ``_fixed_teacher_context``.
- opsd-rlcsd: the clip rescales each position instead of clamping each (position, bucket) term
  before the vocabulary sum, as RLCSD and the later OPSD ``jsd_token_clip`` do: the per-bucket
  clamp reverses the gradient where the teacher strongly prefers a token
  (research/validity-audit.md §3). RLCSD's full-fine-tuning "fixed" teacher is in fact live.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import torch

from creditzoo.algorithms.base import (
    FULL_VOCABULARY,
    Algorithm,
    TeacherSpec,
    param,
    register,
)
from creditzoo.algorithms.ops import masked_mean
from creditzoo.losses import generalized_jsd
from creditzoo.types import Credit, DistillTarget, RolloutBatch

_TEACHER = TeacherSpec(context="solution", weights="fixed")


@register("opsd")
@dataclass
class OPSD(Algorithm):
    """On-policy self-distillation toward the teacher's next-token distribution.

    Args:
        beta: β of the generalized JSD (0 = forward KL(teacher‖student), 0.5 = the paper's).
        token_clip: per-position bound of the divergence, applied by rescaling (its gradient
            keeps its direction); None disables.
        top_k: support = the teacher's top-k ids + a tail bucket; None = the whole vocabulary
            (no tail: exact).
    """

    beta: float = param(0.5, ge=0.0, le=1.0)
    token_clip: float | None = param(None, gt=0.0)
    top_k: int | None = param(None, ge=1)

    requires = frozenset({"teacher_topk_ids", "teacher_topk_logprobs"})
    teacher = _TEACHER
    components = frozenset({"distill"})
    min_group_size = 1  # no group baseline: every response is scored by the teacher alone

    def teacher_spec(self) -> TeacherSpec:
        return replace(self.teacher, top_k=self.top_k or FULL_VOCABULARY)

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        mask = batch.response_mask
        ids, topk = batch.teacher_topk_ids, batch.teacher_topk_logprobs
        assert ids is not None and topk is not None
        # Tolerate top-k tensors without the batch's trailing padding columns (or with more).
        t = min(mask.shape[1], topk.shape[1])
        mass = topk[:, :t].float().exp().sum(dim=-1)
        tail = self.top_k is not None  # the whole vocabulary leaves no tail to model
        divergence = partial(
            generalized_jsd, beta=self.beta, token_clip=self.token_clip, add_tail=tail
        )
        kl = partial(generalized_jsd, beta=0.0, token_clip=None, add_tail=tail)
        return Credit(
            advantages=torch.zeros(mask.shape, device=mask.device),
            metrics={"teacher_topk_mass": masked_mean(mass, mask[:, :t])},
            components={
                "distill": DistillTarget(
                    ids=ids,
                    logprobs=topk,
                    weight=mask.float(),
                    divergence=divergence,
                    monitors={"kl": kl},
                )
            },
        )


@register("opsd-rlcsd")
@dataclass
class OPSDRLCSD(OPSD):
    """OPSD in RLCSD's configuration: forward KL on the teacher's top-100 + tail, clip 0.05.

    Args: as ``opsd``'s, with these defaults (the clip rescales per position; see the module).
    """

    beta: float = param(0.0, ge=0.0, le=1.0)
    token_clip: float | None = param(0.05, gt=0.0)
    top_k: int | None = param(100, ge=1)


@register("opsd-sampled")
@dataclass
class OPSDSampled(Algorithm):
    """On-policy self-distillation on the sampled tokens: Δ per token as the PPO advantage.

    Args:
        advantage_clip: clamp Â to ±advantage_clip; None disables.
    """

    advantage_clip: float | None = param(None, gt=0.0)

    requires = frozenset({"teacher_logprobs"})
    teacher = _TEACHER
    min_group_size = 1

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        mask = batch.response_mask
        assert batch.teacher_logprobs is not None
        delta = torch.where(mask, batch.teacher_logprobs.float() - batch.logprobs.float(), 0.0)
        adv = delta
        if self.advantage_clip is not None:
            adv = delta.clamp(-self.advantage_clip, self.advantage_clip)
        return Credit(
            advantages=adv,
            metrics={
                "delta_abs_mean": masked_mean(delta.abs(), mask),
                "teacher_student_kl": masked_mean(-delta, mask),  # k1 estimate of KL(S‖T)
            },
        )
