"""OPSD — on-policy self-distillation from the same model given the reference solution.

Paper: "Self-Distilled Reasoner: On-Policy Self-Distillation for Large Language Models",
arXiv 2601.18734 (code: siyan-zhao/OPSD; the top-k, tail-bucket and per-bucket-clip details follow
THU-BPM/RLCSD ``compute_policy_loss_opsd``, research/rlcsd-exact.md §3).

Formula, per response token t (s = student, T = teacher with the solution in its prompt):
  ``opsd`` (full distribution): advantages are 0 and the loss gets the component "distill"
    ℓ_t = Σ_v min(term_v, token_clip),  v over the teacher's top-k ids + a tail bucket,
    term_v from ``creditzoo.losses.generalized_jsd`` (β=0: p_T(log p_T − log p_S), i.e. the
    forward KL(T‖S); β=1: reverse KL; else the generalized JSD with M = (1−β)p_S + βp_T).
  ``opsd-sampled`` (sampled token): Â[i, t] = clip(teacher_logprobs − logprobs, ±advantage_clip),
    the negative per-token reverse-KL sample as an advantage (the "Tinker"/OPD form).
No reward is used in either mode.

Reads: response_mask [N, T]; opsd: teacher_topk_ids, teacher_topk_logprobs [N, T, K];
opsd-sampled: logprobs, teacher_logprobs [N, T].
Returns advantages [N, T] (0 off-mask; all 0 for opsd, whose loss is the ``DistillTarget``
component: ids and teacher log-probs [N, T, K], weight = the response mask).
Reduces to: with advantage_clip=None, opsd-sampled's advantage is exactly Δ = teacher_logprobs −
logprobs.

Deviations: the support is the teacher's top-k (k = ``top_k``) plus a tail bucket, not the full
vocabulary (as the RLCSD reproduction). The "fixed" teacher is the initial policy; the RLCSD
reference's full fine-tuning path actually uses the live weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import torch

from creditzoo.algorithms.base import Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import masked_mean
from creditzoo.losses import generalized_jsd
from creditzoo.types import Credit, DistillTarget, RolloutBatch

_TEACHER = TeacherSpec(context="solution", weights="fixed")


@register("opsd")
@dataclass
class OPSD(Algorithm):
    """On-policy self-distillation over the teacher's top-k next-token distribution.

    Args:
        beta: β of the generalized JSD (0 = forward KL(teacher‖student)).
        token_clip: upper clamp of each (token, bucket) divergence term; None disables.
        top_k: size of the teacher's top-k support.
    """

    beta: float = param(0.0, ge=0.0, le=1.0)
    token_clip: float | None = param(0.05, gt=0.0)
    top_k: int = param(100, ge=1)

    requires = frozenset({"teacher_topk_ids", "teacher_topk_logprobs"})
    teacher = _TEACHER
    components = frozenset({"distill"})
    min_group_size = 1  # no group baseline: every response is scored by the teacher alone

    def teacher_spec(self) -> TeacherSpec:
        return replace(self.teacher, top_k=self.top_k)

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        mask = batch.response_mask
        ids, topk = batch.teacher_topk_ids, batch.teacher_topk_logprobs
        assert ids is not None and topk is not None
        # Tolerate top-k tensors without the batch's trailing padding columns (or with more).
        t = min(mask.shape[1], topk.shape[1])
        mass = topk[:, :t].float().exp().sum(dim=-1)
        divergence = partial(
            generalized_jsd, beta=self.beta, token_clip=self.token_clip, add_tail=True
        )
        return Credit(
            advantages=torch.zeros(mask.shape, device=mask.device),
            metrics={"teacher_topk_mass": masked_mean(mass, mask[:, :t])},
            components={
                "distill": DistillTarget(
                    ids=ids, logprobs=topk, weight=mask.float(), divergence=divergence
                )
            },
        )


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
