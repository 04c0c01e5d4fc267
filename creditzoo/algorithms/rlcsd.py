"""RLCSD — additive, sign-preserving token residual from a correct-vs-wrong-context teacher.

Paper: "RL with Contrastive On-Policy Self-Distillation", arXiv 2606.11709 (code: THU-BPM/RLCSD
``third_party/verl/verl/trainer/ppo/core_algos.py: compute_policy_loss_rlcsd`` and
``src/self_distill_main.py``; line-by-line trace in
research/rlcsd-exact.md §1).

Contexts (``creditzoo.providers.contexts``, drawn per row with a generator seeded by (seed, step,
problem, row), so a resumed run draws the same): the positive is one correct sibling drawn at
random (``correct_sibling``), the negatives up to K wrong siblings with a parsed answer drawn at
random without replacement (``wrong_sibling``; the same answer may come from several siblings).
Neither is ever the row itself nor a response whose text equals the row's. Both show a sibling's
response in the same ``correct_sibling`` template.

Formula (per row i, token t; no grad anywhere; invalid negative slots are −inf):
  A_i      = GRPO outcome advantage over the whole group (``scale_rewards``, ``eps``)
  kept_i   = the row has a positive context (teacher_mask), ≥ 1 negative (neg_mask) and its
             group's rewards are not all equal; other rows are dropped (below)
  e[i, t]  = teacher_logprobs − (logsumexp_{k valid} neg_teacher_logprobs[:, k] − log K_valid)
  r[i, t]  = clip(β·λ·tanh(e/τ), clip_low, clip_high)          λ constant (no schedule)
  sel      = |r| > δ on real tokens of kept rows               (strict, post-clip, sign-blind)
  A'       = A_i + sel·r
  mod      = max(A', 0) if A_i > 0;  min(A', 0) if A_i < 0;  0 if A_i = 0
The reference loss has two paths, each a token mean over its own tokens of the kept rows:
  L = mean_{kept, non-sel} PPO(A_i) + η·mean_{sel} PPO(mod)
PPO(c·Â) = c·PPO(Â) for c > 0 (the clipped surrogate is positively homogeneous in Â), so this
returns per-token advantages Â = c·(mod on sel, A_i on kept non-sel tokens, 0 on dropped rows),
  c = N/N_ns on non-selected tokens,  c = η·N/N_sel on selected tokens,
N being every real token of the batch (the shared loss's token_mean denominator) and N_sel, N_ns
the selected and non-selected tokens of kept rows only; token_mean then gives L exactly: dropped
rows add nothing to the loss nor to either path's denominator.

Shapes and reads: rewards [N], group_ids [N], response_mask [N, T], teacher_logprobs [N, T],
teacher_mask [N], neg_teacher_logprobs [N, K, T], neg_mask [N, K]. Returns advantages [N, T]
(0 off-mask and on dropped rows).
Reduces to: grpo on the kept rows, rescaled by N/N_kept, when β = 0 or λ = 0 (nothing selected).

Deviations:
- the two-path fold is exact for ``loss.agg=token_mean`` with ``loss.mini_batches=1``; the
  reference normalises each path per micro-batch (so its loss depends on the micro-batching),
  and with several mini-batches here c is still counted over the whole rollout batch;
- a batch with no kept row gives all-zero advantages (an optimizer step on a zero loss); the
  reference skips the actor update;
- the teacher prompt is ours (the task's ``correct_sibling`` template), not the reference's
  "=== Reference Solution Begin === … Correct final answer: {ans}" scaffold; as there, positive
  and negatives share it (the template may use ``{answer}``: the sibling's parsed answer);
- text-equal siblings are skipped (the reference excludes by index only; on a task with
  deterministic correct responses its positive is then a copy of the row itself);
- a wrong sibling whose parsed answer equals the reference is not a negative;
- invalid parameters raise instead of being clamped or swapped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import torch

from creditzoo.algorithms.base import Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import group_baseline_advantage, informative_rows, masked_mean
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

    requires = frozenset({"teacher_logprobs", "teacher_mask", "neg_teacher_logprobs", "neg_mask"})
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
        assert batch.neg_mask is not None and batch.teacher_mask is not None
        mask = batch.response_mask
        valid = batch.neg_mask.bool()
        has_neg = valid.any(dim=1)
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        informative = informative_rows(batch.rewards, batch.group_ids)
        kept = batch.teacher_mask.bool() & has_neg & informative  # the reference drops the rest
        a = torch.where(kept[:, None], adv[:, None], 0.0).expand_as(mask)

        # Log of the uniform mixture over valid wrong contexts (log-mean-exp, not a mean of logs).
        neg = batch.neg_teacher_logprobs.float().masked_fill(~valid[:, :, None], -math.inf)
        k_valid = valid.sum(dim=1).clamp(min=1)
        log_marginal = torch.logsumexp(neg, dim=1) - torch.log(k_valid.float())[:, None]
        real = mask & kept[:, None]
        e = torch.where(real, batch.teacher_logprobs.float() - log_marginal, 0.0)

        r = (self.beta * self.lam * torch.tanh(e / self.tau)).clamp(self.clip_low, self.clip_high)
        sel = (r.abs() > self.delta) & real
        raw = a + torch.where(sel, r, 0.0)
        mod = torch.where(a > 0, raw.clamp(min=0.0), torch.where(a < 0, raw.clamp(max=0.0), 0.0))

        n_tok = float(mask.sum())  # the loss's token_mean denominator
        n_sel = float(sel.sum())
        n_ns = float(real.sum()) - n_sel  # dropped rows count in neither path
        c_sel = self.eta * n_tok / n_sel if n_sel > 0 else 0.0
        c_ns = n_tok / n_ns if n_ns > 0 else 0.0
        advantages = torch.where(sel, c_sel * mod, torch.where(real, c_ns * a, 0.0))
        return Credit(
            advantages=advantages,
            metrics={
                "kept_frac": float(kept.float().mean()) if kept.numel() else 0.0,
                "selected_frac": n_sel / n_tok if n_tok > 0 else 0.0,
                "e_ctr_mean": masked_mean(e, real),
                "k_valid_mean": float(valid.sum(dim=1).float().mean()) if valid.numel() else 0.0,
                "residual_abs_mean": masked_mean(r.abs(), sel),
                "adv_abs_mean": masked_mean(advantages.abs(), mask),
            },
        )
