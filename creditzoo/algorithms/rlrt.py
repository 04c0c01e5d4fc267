"""RLRT — RLVR with a reversed teacher: extra credit where a correct student beat the teacher.

Paper: "Rebellious Student: Reversing Teacher Signals for Reasoning Exploration with
Self-Distilled RLVR", arXiv 2605.10781 (no official code). RECONSTRUCTED FROM THE ABSTRACT and
third-party summaries (the method text was not readable): built on GRPO,
"modifying RLSD's update rule", it reinforces, on correct rollouts, the tokens where the student
succeeded along a path the privileged teacher would not have predicted (teacher log-prob below the
student's); every other token gets standard GRPO credit.

Formula (per row i, token t; no grad anywhere):
  A_i      = GRPO outcome advantage (``scale_rewards``, ``eps`` as in grpo)
  Δ[i, t]  = teacher_logprobs − logprobs         teacher = same model given the reference answer
  w[i, t]  = clip(exp(−Δ), 1, 1+ε_w)  if A_i > 0        (≥ 1; > 1 exactly where Δ < 0)
           = 1                        otherwise
  Â[i, t]  = A_i·((1−λ) + λ·w)                  λ = λ0·max(0, 1 − step/decay_steps)
So Â = A_i on wrong rows and on tokens the teacher likes at least as much as the student, and
Â ∈ A_i·(1, 1+λε_w] on "self-driven" tokens of correct rows; sign(Â) = sign(A_i), |Â| ≥ |A_i|.

Reads: rewards [N], group_ids [N], response_mask [N, T], logprobs [N, T], teacher_logprobs
[N, T], step. Returns advantages [N, T] (0 off-mask).
Reduces to: grpo when λ0 = 0, when step ≥ decay_steps, when ε_w = 0, or on rows with A_i ≤ 0.

Assumptions / deviations (all unverified against the paper):
- the signal is the sampled-token ratio Δ; a summary says the paper also uses the position-level
  divergence KL(P_S‖P_T) to pick critical positions (needs full distributions): here every token
  with Δ < 0 is boosted, with no top-k% selection;
- wrong rows get plain GRPO (not rlsd's weighting, the other reading of "other tokens");
- the weight is only ever ≥ 1 (one-sided clip [1, 1+ε_w]);
- λ0 = 0.5, decay 50 and ε_w = 0.2 are rlsd's values, not the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from creditzoo.algorithms.base import Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import group_baseline_advantage, linear_decay, masked_mean
from creditzoo.types import Credit, RolloutBatch


@register("rlrt")
@dataclass
class RLRT(Algorithm):
    """GRPO advantage boosted on correct rows where the teacher under-predicted the student.

    Args:
        lambda_init: λ0, the weight of the boost at step 0.
        lambda_decay_steps: λ decays linearly to 0 over this many optimizer steps (≤ 0: constant).
        epsilon_w: the boost weight w is clipped to [1, 1+ε_w].
        scale_rewards: as grpo's (``"group"``, ``"batch"``, ``"none"``).
        eps: added to the reward std.
    """

    lambda_init: float = param(0.5, ge=0.0, le=1.0)
    lambda_decay_steps: int = 50
    epsilon_w: float = param(0.2, ge=0.0)
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
        positive = mask & (adv > 0)[:, None]
        # The exponent clamp only avoids inf; anything above log(1+ε_w) is clipped anyway.
        raw = torch.exp((-delta).clamp(-60.0, 60.0))
        w = torch.where(positive, raw.clamp(1.0, 1.0 + self.epsilon_w), 1.0)
        advantages = adv[:, None] * ((1.0 - lam) + lam * w) * mask
        return Credit(
            advantages=advantages,
            metrics={
                "lambda": lam,
                "boost_frac": masked_mean((w > 1.0).float(), positive),
                "clip_frac_w": masked_mean((raw >= 1.0 + self.epsilon_w).float(), positive),
                "delta_abs_mean": masked_mean(delta.abs(), mask),
                "adv_abs_mean": masked_mean(advantages.abs(), mask),
            },
        )
