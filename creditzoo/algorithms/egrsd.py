"""EGRSD / CL-EGRSD — RLSD's evidence-weighted advantage times a teacher-confidence gate.

Paper: "Respecting Self-Uncertainty in On-Policy Self-Distillation for Efficient LLM Reasoning",
arXiv 2605.13255 (EGRSD = Entropy-Guided Reinforced Self-Distillation; no official code).
RECONSTRUCTED FROM THE ABSTRACT: the method text was not readable. The abstract defines a token's
update as (reward-grounded direction) × (teacher–student likelihood-ratio magnitude) ×
(teacher-entropy confidence gate with a nonzero lower bound), and a causal-lookahead variant
(CL-EGRSD) that tells sustained high-entropy spans from transient spikes.

Formula (per row i, token t; no grad anywhere):
  A_i      = GRPO outcome advantage (``scale_rewards``, ``eps`` as in grpo)
  Δ[i, t]  = teacher_logprobs − logprobs         teacher = same model given the reference answer
  w[i, t]  = clip(exp(sign(A_i)·Δ), 1−ε_w, 1+ε_w)  λ = λ0·max(0, 1 − step/decay_steps)
  H̄[i, t]  = teacher_entropies[i, t]                                  (lookahead K = 0)
           = mean of teacher_entropies[i, s] over real tokens s = t..t+K  (K > 0, CL-EGRSD)
  Ĥ[i, t]  = clip(H̄ / Z, 0, 1)    Z = log V (``vocab_size`` = V > 0: the model's vocabulary,
                                   filled in by ``creditzoo fit`` when left at 0), else the
                                   largest teacher entropy on a real token of the batch
                                   (clamped ≥ 1e-6)
  g[i, t]  = g_min + (1 − g_min)·(1 − Ĥ)            ∈ [g_min, 1]
  Â[i, t]  = A_i·((1−λ) + λ·w)·g
The gate multiplies the whole advantage (the abstract's product of three factors), so with
g_min > 0, sign(Â) = sign(A_i) on every token and confident tokens keep rlsd's credit while
uncertain ones keep at least g_min of it.

Reads: rewards [N], group_ids [N], response_mask [N, T], logprobs [N, T], teacher_logprobs
[N, T], teacher_entropies [N, T] (nats), step. Returns advantages [N, T] (0 off-mask).
Reduces to: rlsd exactly when g_min = 1 (g ≡ 1); grpo·g when λ = 0 (λ0 = 0 or step ≥ decay);
grpo when both.

Assumptions / deviations (all unverified against the paper):
- gate form: linear in normalised entropy with floor g_min (the paper may use another map);
- the gate scales the whole advantage, not only the self-distillation part (1−λ)+λ·w, so after
  λ decays the gate still acts (entropy-gated GRPO);
- lookahead: window t..t+K truncated at the response's end, mean (not min) of raw entropies, so a
  spike followed by low-entropy tokens gets a higher gate than a sustained high-entropy span;
- ``vocab_size = 0`` means "the model's": ``creditzoo fit`` fills in the model's vocabulary size
  (its config's ``vocab_size``, the width of the logits), giving the absolute log V
  normalisation. Only where V stays unknown (a batch built by hand, a model without a config)
  does the gate normalise by the batch's largest real-token teacher entropy, relative to the
  batch (its most uncertain token gets g_min);
- g_min = 0.2, rlsd's λ0 = 0.5, decay 50 and ε_w = 0.2 are not paper values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from creditzoo.algorithms.base import Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import (
    evidence_weight,
    group_baseline_advantage,
    linear_decay,
    masked_mean,
)
from creditzoo.types import Credit, RolloutBatch


@register("egrsd")
@dataclass
class EGRSD(Algorithm):
    """Evidence reweighting (rlsd) gated by the teacher's next-token confidence.

    Args:
        lambda_init: λ0, the weight of the teacher evidence at step 0.
        lambda_decay_steps: λ decays linearly to 0 over this many optimizer steps (≤ 0: constant).
        epsilon_w: clip half-width ε_w of the evidence weight w.
        scale_rewards: as grpo's (``"group"``, ``"batch"``, ``"none"``).
        eps: added to the reward std.
        gate_min: g_min ∈ [0, 1], the gate's floor (1 disables the gate: rlsd).
        lookahead: K ≥ 0 following real tokens averaged into the gate's entropy (> 0: CL-EGRSD).
        vocab_size: V for the log V normalisation; 0: the model's (filled in by ``creditzoo
            fit``), or the batch's largest entropy where V is unknown.
    """

    lambda_init: float = param(0.5, ge=0.0, le=1.0)
    lambda_decay_steps: int = 50
    epsilon_w: float = param(0.2, ge=0.0, lt=1.0)
    scale_rewards: Literal["group", "batch", "none"] = "group"
    eps: float = param(1e-6, ge=0.0)
    gate_min: float = param(0.2, ge=0.0, le=1.0)
    lookahead: int = param(0, ge=0)
    vocab_size: int = param(0, ge=0, allow=lambda v: v != 1, allowed="0 or ≥ 2")

    requires = frozenset({"teacher_logprobs", "teacher_entropies"})
    teacher = TeacherSpec(context="answer", weights="snapshot")

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        assert batch.teacher_logprobs is not None and batch.teacher_entropies is not None
        mask = batch.response_mask
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        lam = linear_decay(self.lambda_init, batch.step, self.lambda_decay_steps)
        delta = torch.where(mask, batch.teacher_logprobs.float() - batch.logprobs.float(), 0.0)
        mult, at_bound = evidence_weight(adv, delta, lam, self.epsilon_w)

        entropy = torch.where(mask, batch.teacher_entropies.float(), 0.0)
        if self.vocab_size > 0:
            scale = math.log(self.vocab_size)
        else:
            scale = float(entropy.masked_fill(~mask, -math.inf).max()) if mask.any() else 0.0
            scale = max(scale, 1e-6)
        h_norm = (lookahead_mean(entropy, mask, self.lookahead) / scale).clamp(0.0, 1.0)
        gate = self.gate_min + (1.0 - self.gate_min) * (1.0 - h_norm)

        advantages = adv[:, None] * mult * gate * mask
        signal = mask & (adv != 0)[:, None]
        return Credit(
            advantages=advantages,
            metrics={
                "lambda": lam,
                "gate_mean": masked_mean(gate, mask),
                "clip_frac_w": masked_mean(at_bound.float(), signal),
                "delta_abs_mean": masked_mean(delta.abs(), mask),
                "adv_abs_mean": masked_mean(advantages.abs(), mask),
            },
        )


def lookahead_mean(values: Tensor, mask: Tensor, k: int) -> Tensor:
    """Mean of ``values`` over the real tokens s = t..t+k of each row, ``[N, T]``; k = 0: values.

    The window is cut at the end of the row; positions with no real token in it get 0.
    """
    if k == 0:
        return values
    real = mask.float()
    sums = F.pad(values * real, (0, k)).unfold(1, k + 1, 1).sum(-1)
    counts = F.pad(real, (0, k)).unfold(1, k + 1, 1).sum(-1)
    return sums / counts.clamp(min=1.0)
