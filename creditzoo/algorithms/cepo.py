"""CEPO — RLSD's evidence weight with a wrong-answer teacher in place of the student.

Paper: "CEPO: RLVR Self-Distillation using Contrastive Evidence Policy Optimization",
arXiv 2605.19436 (code: ahmedheakl/CEPO ``verl/trainer/core_algos.py: apply_cepo_weighting``;
the negative's selection: ``verl/trainer/ray_trainer.py: _build_cepo_teacher_batch``).

Formula (per row i, token t; no grad anywhere):
  A_i      = GRPO outcome advantage (``scale_rewards``, ``eps`` as in grpo)
  Δ[i, t]  = teacher_logprobs − neg_teacher_logprobs[:, 0]     (answer vs wrong-answer context)
             = 0 on rows whose neg_mask[:, 0] is False (no rejected sibling to contrast with)
  w[i, t]  = clip(exp(sign(A_i)·Δ), 1−ε_w, 1+ε_w)
  Â[i, t]  = A_i·((1−λ) + λ·w)                               λ = λ0·max(0, 1 − step/decay_steps)
The contrast cancels the student prior (fluency) that RLSD's Δ carries; sign(Â) = sign(A_i).

Wrong-answer context (``teacher.negative_context``):
  wrong_answer (default, the official ``_build_cepo_teacher_batch``): one per group, the worst
    rejected rollout (lowest reward; ties → the first index), used by every row of the group,
    that rollout itself included (a lone wrong rollout is contrasted with its own answer); its
    parsed answer, or its first 50 characters when no answer parses.
  wrong_answer_distinct (option): per row, the worst of its rejected siblings' distinct parsed
    answers, never the row's own (rows whose siblings offer none get Δ = 0).

Shapes and reads: rewards [N], group_ids [N], response_mask [N, T], logprobs [N, T] (metrics
only), teacher_logprobs [N, T], neg_teacher_logprobs [N, K≥1, T] (slot 0 used), neg_mask [N, K],
step. Returns advantages [N, T] (0 off-mask).
Reduces to: grpo when λ0 = 0, when step ≥ decay_steps, or on rows without a wrong context.

Deviations:
- the teacher prompt is ours: the answer sits in the user turn, "{problem} (Reference answer:
  X)" (the task's ``answer`` template), where the official code appends " {answer}" tokens after
  the assistant header;
- λ0 = 0.5 and a 25-step decay are ``experiments/geo/cepo.sh``'s values (the repository's config
  defaults are λ0 = 1.0 with a 100-step warm-up);
- the paper's README says a group without a wrong rollout "reduces to RLSD"; the official code,
  as this, gives GRPO there (a group with no rejected rollout has A = 0 anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from creditzoo.algorithms.base import Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import (
    evidence_weight,
    group_baseline_advantage,
    linear_decay,
    masked_mean,
)
from creditzoo.types import Credit, RolloutBatch


@register("cepo")
@dataclass
class CEPO(Algorithm):
    """Contrastive evidence reweighting of the GRPO advantage.

    Args:
        lambda_init: λ0, the weight of the contrastive evidence at step 0.
        lambda_decay_steps: λ decays linearly to 0 over this many optimizer steps (≤ 0: constant).
        epsilon_w: clip half-width ε_w of the evidence weight w.
        scale_rewards: as grpo's (``"group"``, ``"batch"``, ``"none"``).
        eps: added to the reward std.
    """

    lambda_init: float = param(0.5, ge=0.0, le=1.0)
    lambda_decay_steps: int = 25
    epsilon_w: float = param(0.2, ge=0.0, lt=1.0)
    scale_rewards: Literal["group", "batch", "none"] = "group"
    eps: float = param(1e-6, ge=0.0)

    requires = frozenset({"teacher_logprobs", "neg_teacher_logprobs", "neg_mask"})
    teacher = TeacherSpec(
        context="answer", weights="live", negative_context="wrong_answer", negatives=1
    )

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        assert batch.teacher_logprobs is not None and batch.neg_teacher_logprobs is not None
        assert batch.neg_mask is not None
        mask = batch.response_mask
        has_neg = batch.neg_mask[:, 0].bool()
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        lam = linear_decay(self.lambda_init, batch.step, self.lambda_decay_steps)
        contrast = batch.teacher_logprobs.float() - batch.neg_teacher_logprobs[:, 0].float()
        # where(), not a product: an absent context's slot may hold anything, even -inf.
        delta = torch.where(mask & has_neg[:, None], contrast, 0.0)
        mult, at_bound = evidence_weight(adv, delta, lam, self.epsilon_w)
        advantages = adv[:, None] * mult * mask
        signal = mask & (adv != 0)[:, None]
        kl = torch.where(mask, batch.logprobs.float() - batch.teacher_logprobs.float(), 0.0)
        return Credit(
            advantages=advantages,
            metrics={
                "lambda": lam,
                "clip_frac_w": masked_mean(at_bound.float(), signal),
                "delta_abs_mean": masked_mean(delta.abs(), mask),
                "teacher_student_kl": masked_mean(kl, mask),  # k1 estimate of KL(S‖T)
                "adv_abs_mean": masked_mean(advantages.abs(), mask),
                "neg_available": float(has_neg.float().mean()) if has_neg.numel() else 0.0,
            },
        )
