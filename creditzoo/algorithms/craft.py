"""CRAFT-style counterfactual token credit from sibling rollouts, added to the GRPO advantage.

Paper: "CRAFT: Counterfactual Credit Assignment from Free Sibling Rollouts for Self-Distilled
Agentic Reinforcement Learning", arXiv 2606.29476 (no official code). RECONSTRUCTED FROM THE
ABSTRACT, Pillar 1 only ("Counterfactual Token Importance": reuse the G−1 siblings, importance-
weight them by the teacher–student log-prob gap, and form a self-normalised estimate of the
group-level counterfactual change in advantage from up-weighting teacher-preferred actions, giving
signed per-token credit). Pillars 2 (distillation/KL-weight controller) and 3 (KL polarisation)
act on a distillation loss that creditzoo's pg objective does not have, and are omitted.

Formula (per row i, token t; j, k range over the siblings of i: same group, j ≠ i; no grad):
  A_i      = GRPO outcome advantage (``scale_rewards``, ``eps`` as in grpo)
  Δ[i, t]  = teacher_logprobs − logprobs                   (0 on padding)
  e_j      = mean of Δ[j, ·] over row j's real tokens       (per-token log likelihood ratio)
  ω_j|i    = exp(e_j) / Σ_k exp(e_k)                       (self-normalised importance weights)
  κ_i      = Σ_j ω_j|i·A_j − mean_j A_j                     (counterfactual change in advantage)
  b_i      = mean_j e_j                                     (siblings' evidence level)
  c[i, t]  = κ_i·tanh(Δ[i, t] − b_i)                        ∈ (−|κ_i|, |κ_i|)
  Â[i, t]  = A_i + η·c[i, t], then (``sign_preserve``) clamped so that it never takes the sign
             opposite to A_i: max(Â, 0) if A_i > 0, min(Â, 0) if A_i < 0, 0 if A_i = 0
κ_i > 0 when, among i's siblings, the rollouts the teacher prefers earned more advantage: then
tokens of row i the teacher likes more than its siblings' average get extra credit (or less
blame), and tokens it likes less get less credit (or more blame); κ_i < 0 reverses this.

Reads: rewards [N], group_ids [N], response_mask [N, T], logprobs [N, T], teacher_logprobs
[N, T]. Returns advantages [N, T] (0 off-mask).
Reduces to: grpo exactly when η = 0; also (κ = 0) for groups of ≤ 2 rows, groups with equal
rewards, or siblings with equal mean evidence.

Assumptions / deviations (all unverified against the paper):
- the paper gates a distillation loss with the credit; here (DESIGN §3) the credit is added to
  the GRPO advantage of the pg objective;
- single-turn responses are one "step": κ_i is per row, and the token's own Δ makes c per token;
- sibling evidence is the per-token mean of Δ over the whole sibling (length-normalised, so no
  token alignment across siblings of different lengths is needed); the paper's alignment is unknown;
- the baseline of κ is the siblings' plain mean advantage (leave-one-out), not the group mean of
  the research notes: with the group mean, κ carries a teacher-independent bias −A_i/(G−1);
- the token's own factor is tanh(Δ − b_i), bounded, centred on the siblings' evidence so that a
  uniform teacher–student offset (style) gives no credit; the row's own rollout never estimates
  its own κ (no self-conditioning);
- η = 0.1 is not a paper value (none is known): it makes |η·c| ≤ 0.1·|κ|, the order of rlsd's
  λ0·ε_w; the sign clamp keeps the verifier-anchored direction of rlsd/cepo/rlcsd (research
  §11.1); whether the paper clamps is unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from creditzoo.algorithms.base import Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import group_baseline_advantage, masked_mean, sibling_table
from creditzoo.types import Credit, RolloutBatch


@register("craft")
@dataclass
class CRAFT(Algorithm):
    """GRPO advantage plus a signed counterfactual credit estimated from the siblings.

    Args:
        eta: η, weight of the per-token credit (0: grpo).
        sign_preserve: clamp Â so that it never takes the sign opposite to A_i.
        scale_rewards: as grpo's (``"group"``, ``"batch"``, ``"none"``).
        eps: added to the reward std.
    """

    eta: float = param(0.1, ge=0.0)
    sign_preserve: bool = True
    scale_rewards: Literal["group", "batch", "none"] = "group"
    eps: float = param(1e-6, ge=0.0)

    requires = frozenset({"teacher_logprobs"})
    teacher = TeacherSpec(context="answer", weights="snapshot")

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        assert batch.teacher_logprobs is not None
        mask = batch.response_mask
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        delta = torch.where(mask, batch.teacher_logprobs.float() - batch.logprobs.float(), 0.0)
        evidence = delta.sum(1) / mask.sum(1).clamp(min=1)  # e_j, [N]

        sib_e, sib = sibling_table(evidence, batch.group_ids)
        sib_a, _ = sibling_table(adv, batch.group_ids)
        has_sib = sib.any(1, keepdim=True)
        logits = sib_e.masked_fill(~sib, -math.inf).masked_fill(~has_sib, 0.0)
        omega = torch.softmax(logits, dim=1) * sib
        n_sib = sib.sum(1).clamp(min=1)
        kappa = (omega * sib_a).sum(1) - (sib_a * sib).sum(1) / n_sib
        base = (sib_e * sib).sum(1) / n_sib
        credit = torch.where(mask, kappa[:, None] * torch.tanh(delta - base[:, None]), 0.0)

        a = adv[:, None]
        raw = a + self.eta * credit
        out = raw
        if self.sign_preserve:
            out = torch.where(
                a > 0, raw.clamp(min=0.0), torch.where(a < 0, raw.clamp(max=0.0), 0.0)
            )
        advantages = out * mask
        return Credit(
            advantages=advantages,
            metrics={
                "kappa_abs_mean": float(kappa.abs().mean()) if kappa.numel() else 0.0,
                "credit_abs_mean": masked_mean(credit.abs(), mask),
                "sign_clamp_frac": masked_mean((out != raw).float(), mask),
                "delta_abs_mean": masked_mean(delta.abs(), mask),
                "adv_abs_mean": masked_mean(advantages.abs(), mask),
            },
        )
