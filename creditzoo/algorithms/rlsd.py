"""RLSD — RLVR with self-distillation: the verifier sets the direction, a teacher the magnitude.

Paper: "Self-Distilled RLVR", arXiv 2604.03128 (no official code; formula as implemented by
ahmedheakl/CEPO ``verl/trainer/core_algos.py: apply_rlsd_reweighting`` and THU-BPM/RLCSD
``third_party/verl/verl/trainer/ppo/core_algos.py: compute_policy_loss_rlsd``).

Formula (per row i, token t; no grad anywhere):
  A_i      = GRPO outcome advantage (``scale_rewards``, ``eps`` as in grpo)
  Δ[i, t]  = teacher_logprobs − logprobs        teacher = same model given the reference answer
  w[i, t]  = clip(exp(sign(A_i)·Δ), 1−ε_w, 1+ε_w)
  Â[i, t]  = A_i·((1−λ) + λ·w)                  λ = λ0·max(0, 1 − step/decay_steps)
Since w > 0 and λ ∈ [0, 1], sign(Â) = sign(A_i) on every token; Â ∈ A_i·[1−λε_w, 1+λε_w].

Reads: rewards [N], group_ids [N], response_mask [N, T], logprobs [N, T], teacher_logprobs
[N, T], step. Returns advantages [N, T] (0 off-mask).
Reduces to: grpo when λ0 = 0, when step ≥ decay_steps, or when ε_w = 0.

Deviations: Δ uses the behaviour log-probs of the batch (the RLCSD reference uses the current
policy's detached log-probs, which are equal on the first mini-batch of an on-policy step). The
exponent is clamped to ±60 before exp (no effect after the ε_w clip). The λ schedule is applied
as written (step 0 = full λ0); the RLCSD reference wiring probably never decays it.
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


@register("rlsd")
@dataclass
class RLSD(Algorithm):
    """Direction-aware evidence reweighting of the GRPO advantage.

    Args:
        lambda_init: λ0, the weight of the teacher evidence at step 0.
        lambda_decay_steps: λ decays linearly to 0 over this many optimizer steps (≤ 0: constant).
        epsilon_w: clip half-width ε_w of the evidence weight w.
        scale_rewards: as grpo's (``"group"``, ``"batch"``, ``"none"``).
        eps: added to the reward std.
    """

    lambda_init: float = param(0.5, ge=0.0, le=1.0)
    lambda_decay_steps: int = 50
    epsilon_w: float = param(0.2, ge=0.0, lt=1.0)
    scale_rewards: Literal["group", "batch", "none"] = "group"
    eps: float = param(1e-6, ge=0.0)

    requires = frozenset({"teacher_logprobs"})
    teacher = TeacherSpec(context="answer", weights="snapshot")

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        assert batch.teacher_logprobs is not None
        mask = batch.response_mask
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        lam = linear_decay(self.lambda_init, batch.step, self.lambda_decay_steps)
        delta = torch.where(mask, batch.teacher_logprobs.float() - batch.logprobs.float(), 0.0)
        mult, at_bound = evidence_weight(adv, delta, lam, self.epsilon_w)
        advantages = adv[:, None] * mult * mask
        signal = mask & (adv != 0)[:, None]
        return Credit(
            advantages=advantages,
            metrics={
                "lambda": lam,
                "clip_frac_w": masked_mean(at_bound.float(), signal),
                "delta_abs_mean": masked_mean(delta.abs(), mask),
                "teacher_student_kl": masked_mean(-delta, mask),  # k1 estimate of KL(S‖T)
                "adv_abs_mean": masked_mean(advantages.abs(), mask),
            },
        )
