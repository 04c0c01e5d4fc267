"""Oracle — process credit from the known first error: a reference that cheats by design.

Not a method anyone can train with on real data: it reads ``process_labels``, the task's own
verdict of where each response first went wrong (``creditzoo.process``; the arithmetic task
knows it exactly). It is the zoo's upper anchor: the credit audit (``creditzoo audit``) scores it
perfect by construction, and in training it is the positive control — if even oracle credit does
not beat GRPO on a leaderboard, that leaderboard cannot see better credit assignment.
Background: research/credit-audit.md; the process-reward setting of "Let's Verify Step by Step",
arXiv 2305.20050, and the first-error labels of ProcessBench, arXiv 2412.06559.

Formula (per row i with GRPO's outcome advantage A_i; labels ℓ[i, t] ∈ {1 prefix, 0 first wrong
step, −1 after it}):
  A_i ≥ 0 (a correct or unblamed response):  Â[i, t] = A_i
  A_i < 0 with a located first error:         Â[i, t] = 0 where ℓ = 1 (the correct prefix)
                                                         A_i where ℓ = 0 (the wrong step)
                                                         A_i (suffix=full) or 0 (suffix=zero)
                                                         where ℓ = −1 (after it)
  A_i < 0 without one (no label 0: unparseable, or no alignment): Â[i, t] = A_i (as GRPO).

Reads: rewards [N], group_ids [N], response_mask [N, T], process_labels [N, T].
Returns advantages [N, T] (0 off-mask).
Reduces to: grpo on every row that is not blamed, and on every row when no error is located.
Deviations: none (the method is defined here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from creditzoo.algorithms.base import Algorithm, param, register
from creditzoo.algorithms.ops import broadcast_to_tokens, group_baseline_advantage, masked_mean
from creditzoo.process.steps import LABEL_ERROR, LABEL_PREFIX
from creditzoo.types import Credit, RolloutBatch


@register("oracle")
@dataclass
class Oracle(Algorithm):
    """GRPO's advantage, with the blame of a wrong response moved off its correct prefix.

    Args:
        suffix: ``"full"`` keeps A_i after the first wrong step, ``"zero"`` gives it 0.
        scale_rewards: as grpo's (``"group"``, ``"batch"``, ``"none"``).
        eps: added to the reward std.
    """

    suffix: Literal["full", "zero"] = "full"
    scale_rewards: Literal["group", "batch", "none"] = "group"
    eps: float = param(1e-6, ge=0.0)

    requires = frozenset({"process_labels"})

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        assert batch.process_labels is not None
        mask = batch.response_mask
        labels = batch.process_labels
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        advantages = broadcast_to_tokens(adv, mask)
        located = ((labels == LABEL_ERROR) & mask).any(dim=1)
        blamed = (adv < 0) & located
        keep = labels == LABEL_ERROR if self.suffix == "zero" else labels != LABEL_PREFIX
        advantages = torch.where(blamed[:, None] & ~keep, 0.0, advantages) * mask
        wrong = mask & blamed[:, None]
        return Credit(
            advantages=advantages,
            metrics={
                "located_frac": float(located[adv < 0].float().mean()) if (adv < 0).any() else 0.0,
                "spared_prefix_frac": masked_mean((labels == LABEL_PREFIX).float(), wrong),
                "adv_abs_mean": masked_mean(advantages.abs(), mask),
            },
        )
