"""RLCSD — additive, sign-preserving token residual from a correct-vs-wrong-context teacher.

Paper: "RL with Contrastive On-Policy Self-Distillation", arXiv 2606.11709 (code: THU-BPM/RLCSD
``compute_policy_loss_rlcsd``; line-by-line trace in research/rlcsd-exact.md §1).

Formula (per row i, token t; no grad anywhere; invalid negative slots are −inf):
  A_i      = GRPO outcome advantage (``scale_rewards``, ``eps`` as in grpo)
  e[i, t]  = teacher_logprobs − (logsumexp_{k valid} neg_teacher_logprobs[:, k] − log K_valid)
  r[i, t]  = clip(β·λ·tanh(e/τ), clip_low, clip_high)          λ constant (no schedule)
  sel      = |r| > δ on real tokens                             (strict, post-clip, sign-blind)
  A'       = A_i + sel·r
  mod      = max(A', 0) if A_i > 0;  min(A', 0) if A_i < 0;  0 if A_i = 0
The reference loss has two paths, each a token mean over its own tokens:
  L = mean_{non-sel} PPO(A_i) + η·mean_{sel} PPO(mod)
PPO(c·Â) = c·PPO(Â) for c > 0 (the clipped surrogate is positively homogeneous in Â), so this
returns per-token advantages Â = c·(mod on sel, A_i elsewhere) with
  c = N_tok/N_nonsel on non-selected tokens,  c = η·N_tok/N_sel on selected tokens,
counted over the batch given to ``compute``; the shared loss's token_mean then gives L exactly.
Exact for ``loss.agg=token_mean`` over this same batch; the reference normalises each path per
micro-batch instead (so it is micro-batch dependent; this is not).

Reads: rewards [N], group_ids [N], response_mask [N, T], teacher_logprobs [N, T] (teacher given
a correct sibling's solution), neg_teacher_logprobs [N, K, T] (K wrong siblings' solutions),
neg_mask [N, K]. Returns advantages [N, T] (0 off-mask).
Reduces to: grpo when β = 0 or λ = 0 (nothing selected, c = 1), or when no row has a valid
negative.

Deviations: rows without a valid negative get no residual (plain GRPO advantage, counted as
non-selected); the reference drops such rows (and whole groups with no correct or no wrong
sibling) from the update. Invalid parameters raise instead of being clamped or swapped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import torch

from creditzoo.algorithms.base import Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import group_baseline_advantage, masked_mean
from creditzoo.errors import ConfigError
from creditzoo.types import Credit, RolloutBatch


@register("rlcsd")
@dataclass
class RLCSD(Algorithm):
    """Contrastive token residual on the GRPO advantage, with the two-path loss folded in.

    Args:
        tau: temperature τ of tanh(e/τ).
        beta: residual scale β.
        lam: residual weight λ (constant).
        delta: gate δ: a token is modulated when |r| > δ.
        clip_low, clip_high: bounds of the residual r.
        eta: weight η of the selected-token path.
        num_negatives: K wrong-sibling contexts per row (reference k_max: 4).
        scale_rewards: as grpo's (``"group"``, ``"batch"``, ``"none"``).
        eps: added to the reward std.
    """

    tau: float = param(0.02, gt=0.0)
    beta: float = 1.0
    lam: float = 0.5
    delta: float = param(0.02, ge=0.0)
    clip_low: float = -2.0
    clip_high: float = 2.0
    eta: float = param(1.0, ge=0.0)
    num_negatives: int = param(4, ge=1)
    scale_rewards: Literal["group", "batch", "none"] = "group"
    eps: float = param(1e-6, ge=0.0)

    requires = frozenset({"teacher_logprobs", "neg_teacher_logprobs", "neg_mask"})
    teacher = TeacherSpec(
        context="correct_sibling", weights="snapshot", negative_context="wrong_sibling"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.clip_low > self.clip_high:
            raise ConfigError(
                f"algorithm 'rlcsd': clip_low {self.clip_low} must be ≤ clip_high {self.clip_high}"
            )

    def teacher_spec(self) -> TeacherSpec:
        return replace(self.teacher, negatives=self.num_negatives)

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        assert batch.teacher_logprobs is not None and batch.neg_teacher_logprobs is not None
        assert batch.neg_mask is not None
        mask = batch.response_mask
        valid = batch.neg_mask.bool()
        has_neg = valid.any(dim=1)
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        a = adv[:, None].expand_as(mask)

        # Log of the uniform mixture over valid wrong contexts (log-mean-exp, not a mean of logs).
        neg = batch.neg_teacher_logprobs.float().masked_fill(~valid[:, :, None], -math.inf)
        k_valid = valid.sum(dim=1).clamp(min=1)
        log_marginal = torch.logsumexp(neg, dim=1) - torch.log(k_valid.float())[:, None]
        real = mask & has_neg[:, None]
        e = torch.where(real, batch.teacher_logprobs.float() - log_marginal, 0.0)

        r = (self.beta * self.lam * torch.tanh(e / self.tau)).clamp(self.clip_low, self.clip_high)
        sel = (r.abs() > self.delta) & real
        raw = a + torch.where(sel, r, 0.0)
        mod = torch.where(a > 0, raw.clamp(min=0.0), torch.where(a < 0, raw.clamp(max=0.0), 0.0))

        n_tok = float(mask.sum())
        n_sel = float(sel.sum())
        n_ns = n_tok - n_sel
        c_sel = self.eta * n_tok / n_sel if n_sel > 0 else 0.0
        c_ns = n_tok / n_ns if n_ns > 0 else 0.0
        advantages = torch.where(sel, c_sel * mod, torch.where(mask, c_ns * a, 0.0))
        return Credit(
            advantages=advantages,
            metrics={
                "selected_frac": n_sel / n_tok if n_tok > 0 else 0.0,
                "e_ctr_mean": masked_mean(e, real),
                "k_valid_mean": float(valid.sum(dim=1).float().mean()) if valid.numel() else 0.0,
                "residual_abs_mean": masked_mean(r.abs(), sel),
                "adv_abs_mean": masked_mean(advantages.abs(), mask),
            },
        )
