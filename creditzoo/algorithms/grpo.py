"""GRPO and its reward-scaling variants.

Papers:
  "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language Models",
  arXiv 2402.03300 (GRPO); "Understanding R1-Zero-Like Training: A Critical Perspective",
  arXiv 2503.20783 (Dr. GRPO: no std division, constant loss normaliser).
Reference code: volcengine/verl ``verl/trainer/ppo/core_algos.py:
compute_grpo_outcome_advantage`` (``norm_adv_by_std_in_grpo=False`` is Dr. GRPO).

Formula (one scalar per response, broadcast over its tokens):
  A_i = (R_i − mean_{j∈g(i)} R_j) / (std + eps)      std unbiased, over the group or the batch
  Â[i, t] = A_i · mask[i, t]
Dr. GRPO is ``scale_rewards="none"`` here plus ``loss.agg=const_norm`` in the shared loss;
DAPO's token-level mean and clip-higher are the loss defaults (``creditzoo.losses``).

Reads: rewards [N], group_ids [N], response_mask [N, T]. Returns advantages [N, T].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from creditzoo.algorithms.base import Algorithm, register
from creditzoo.algorithms.ops import broadcast_to_tokens, group_baseline_advantage
from creditzoo.types import Credit, RolloutBatch


@register("grpo")
@dataclass
class GRPO(Algorithm):
    """Group-relative outcome advantage.

    Args:
        scale_rewards: ``"group"`` divides by the group's std, ``"batch"`` by the batch's,
            ``"none"`` does not divide (Dr. GRPO).
        eps: added to the std.
    """

    scale_rewards: Literal["group", "batch", "none"] = "group"
    eps: float = 1e-6

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        return Credit(
            advantages=broadcast_to_tokens(adv, batch.response_mask),
            metrics={"adv_abs_mean": float(adv.abs().mean())},
        )
