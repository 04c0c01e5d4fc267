"""GRPO with the outcome advantage clipped to ±max_abs.

Why: with ``scale_rewards="group"`` a group with one correct answer out of G gets
A = (G−1)/√G for that row (≈ 2.5 at G = 8), so rare successes dominate the update; clipping bounds
any single row's weight while keeping every sign. An example plugin, not a published method; the
baseline is GRPO ("DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language
Models", arXiv 2402.03300).

Formula (one scalar per response, broadcast over its tokens):
  A_i = (R_i − mean_{j∈g(i)} R_j) / (std + eps)      as grpo (std over the group or the batch)
  Â[i, t] = clip(A_i, −max_abs, max_abs) · mask[i, t]

Reads: rewards [N], group_ids [N], response_mask [N, T]. Returns advantages [N, T].
Reduces to grpo when max_abs ≥ max |A_i| (e.g. ``max_abs=inf``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from creditzoo import Algorithm, Credit, RolloutBatch, param, register
from creditzoo.algorithms.ops import broadcast_to_tokens, group_baseline_advantage


@register("clipped_grpo")
@dataclass
class ClippedGRPO(Algorithm):
    """Group-relative outcome advantage, clipped to ``[-max_abs, max_abs]``.

    Args:
        max_abs: bound on |A_i|; must be > 0 (0 would zero every update).
        scale_rewards: ``"group"`` divides by the group's std, ``"batch"`` by the batch's,
            ``"none"`` does not divide (Dr. GRPO).
        eps: added to the std.
    """

    max_abs: float = param(1.0, gt=0.0)  # checked when built (NaN is rejected too)
    scale_rewards: Literal["group", "batch", "none"] = "group"
    eps: float = param(1e-6, ge=0.0)

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        raw = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        adv = raw.clamp(-self.max_abs, self.max_abs)
        return Credit(
            advantages=broadcast_to_tokens(adv, batch.response_mask),
            metrics={
                "adv_abs_mean": float(adv.abs().mean()),
                "clip_frac": float((raw.abs() > self.max_abs).float().mean()),
            },
        )
