"""OPSD — on-policy self-distillation from the same model given the reference solution.

Paper: "Self-Distilled Reasoner: On-Policy Self-Distillation for Large Language Models",
arXiv 2601.18734 (code: siyan-zhao/OPSD; the top-k, tail-bucket and per-bucket-clip details follow
THU-BPM/RLCSD ``compute_policy_loss_opsd``, research/rlcsd-exact.md §3).

Formula, per response token t (s = student, T = teacher with the solution in its prompt):
  mode="full" (objective "distill"): advantages are 0 and the loop adds
    ℓ_t = Σ_v min(term_v, token_clip),  v over the teacher's top-k ids + a tail bucket,
    term_v from ``creditzoo.losses.generalized_jsd`` (β=0: p_T(log p_T − log p_S), i.e. the
    forward KL(T‖S); β=1: reverse KL; else the generalized JSD with M = (1−β)p_S + βp_T).
  mode="sampled" (objective "pg"): Â[i, t] = clip(teacher_logprobs − logprobs, ±advantage_clip),
    the negative per-token reverse-KL sample as an advantage (the "Tinker"/OPD form).
No reward is used in either mode.

Reads: response_mask [N, T]; full: extras "teacher/topk_logprobs" [N, T, K] (metrics only;
``distill_loss`` gets student and teacher [n, T, K]); sampled: logprobs, teacher_logprobs [N, T].
Returns advantages [N, T] (0 off-mask; all 0 in full mode).
Reduces to: with advantage_clip=None, sampled mode is exactly Δ = teacher_logprobs − logprobs.

Deviations: the support is the teacher's top-k (k = ``top_k``) plus a tail bucket, not the full
vocabulary (as the RLCSD reproduction). The "fixed" teacher is the initial policy; the RLCSD
reference's full fine-tuning path actually uses the live weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from creditzoo.algorithms._ops import masked_mean
from creditzoo.algorithms.base import TEACHER_TOPK_LOGPROBS, Algorithm
from creditzoo.losses import generalized_jsd
from creditzoo.registry import register
from creditzoo.types import Credit, RolloutBatch


@register("opsd")
@dataclass
class OPSD(Algorithm):
    """On-policy self-distillation, full-distribution (top-k) or sampled-token.

    Args:
        mode: ``"full"`` — generalized-JSD distillation over the teacher's top-k; ``"sampled"``
            — Δ per token as the advantage of the PPO surrogate.
        beta: β of the generalized JSD (0 = forward KL(teacher‖student)); full mode.
        token_clip: upper clamp of each (token, bucket) divergence term; None disables; full mode.
        advantage_clip: clamp Â to ±advantage_clip; None disables; sampled mode.
        top_k: size of the teacher's top-k support; full mode.
    """

    mode: Literal["full", "sampled"] = "full"
    beta: float = 0.0
    token_clip: float | None = 0.05
    advantage_clip: float | None = None
    top_k: int = 100

    teacher_context = "solution"
    teacher_weights = "fixed"
    min_group_size = 1  # no group baseline: every response is scored by the teacher alone

    def __post_init__(self) -> None:
        if self.mode not in ("full", "sampled"):
            raise ValueError(f"opsd: mode must be 'full' or 'sampled', got {self.mode!r}")
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"opsd: beta must be in [0, 1], got {self.beta}")
        for key in ("token_clip", "advantage_clip"):
            value = getattr(self, key)
            if value is not None and value <= 0:
                raise ValueError(f"opsd: {key} must be > 0 or None, got {value}")
        if self.top_k < 1:
            raise ValueError(f"opsd: top_k must be ≥ 1, got {self.top_k}")
        if self.mode == "sampled":
            self.requires = frozenset({"teacher_logprobs"})
            self.objective = "pg"
        else:
            self.requires = frozenset({"teacher_topk"})
            self.objective = "distill"
            self.teacher_top_k = self.top_k

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        self.check_batch(batch)
        mask = batch.response_mask
        if self.mode == "full":
            topk = batch.extras[TEACHER_TOPK_LOGPROBS]
            # Tolerate a top-k tensor without the batch's trailing padding columns (or with more).
            t = min(mask.shape[1], topk.shape[1])
            mass = topk[:, :t].float().exp().sum(dim=-1)
            return Credit(
                advantages=torch.zeros(mask.shape, device=mask.device),
                metrics={"teacher_topk_mass": masked_mean(mass, mask[:, :t])},
            )
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

    def distill_loss(self, student_topk: Tensor, teacher_topk: Tensor) -> Tensor:
        """Per-token loss ``[n, T]``: clipped generalized JSD over top-k + tail bucket."""
        return generalized_jsd(
            student_topk, teacher_topk, beta=self.beta, token_clip=self.token_clip, add_tail=True
        )
