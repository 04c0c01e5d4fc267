"""SRPO — GRPO on correct rollouts, entropy-weighted SDPO distillation on the others.

Paper: "Unifying Group-Relative and Self-Distillation Policy Optimization via Sample Routing",
arXiv 2604.02288 (code: THU-BPM/RLCSD ``third_party/verl/verl/trainer/ppo/core_algos.py:
compute_policy_loss_srpo``; defaults from ``configs/math_deepmath/qwen3_4b_srpo.yaml``).

Formula (per row i, token t; A_i the GRPO advantage, H_T the teacher's next-token entropy):
  c_i     = 1[mean_t A_i > 0]                     correct → GRPO; every other row → SDPO
            (wrong rows, and every row of an all-equal group, where A_i = 0)
  ℓ^GRPO  = PPO-clip(A_i)                         on rows with c_i = 1
  ℓ^SDPO  = ρ_t · JSD_α(p_S ‖ p_T)                on rows with c_i = 0 (``sdpo``'s term: α = 0.5,
            ρ_t = sg(min(exp(logp − old_logp), 2)), the teacher's top-100 ids + a tail bucket)
  w̃[i,t]  = exp(−β·H_T[i,t]) / mean_{routed (j,u)} exp(−β·H_T[j,u])     (no gradient)
  L       = (Σ_{c_i=1} Σ_t ℓ^GRPO + Σ_{c_i=0} Σ_t w̃·ℓ^SDPO) / (N_tok,GRPO + N_tok,SDPO)
The two token sets are every real token, so L is the shared loss's token_mean of: advantages
A_i on GRPO rows and 0 on SDPO rows, plus the "distill" component with weight (1 − c_i)·w̃.
Teacher: the reference solution (``privileged_text_mode: solution_answer``), EMA weights with
decay 0.95.

Shapes and reads: rewards [N], group_ids [N], response_mask [N, T], teacher_entropies [N, T],
teacher_topk_ids and teacher_topk_logprobs [N, T, K]. Returns advantages [N, T] (0 off-mask and
on SDPO rows) and the ``DistillTarget``.
Reduces to: grpo's advantages on the rows with A_i > 0 (0 elsewhere); a teacher equal to the
student makes the distillation term 0, leaving GRPO's positive-advantage half of the loss; β = 0
gives w̃ = 1, ``sdpo-rlcsd``'s term on the routed rows.

Deviations:
- the top-k support is the teacher's top-k ids (the reference gathers at the student's top-k);
  ``top_k=None`` uses the whole vocabulary, where the two agree;
- w̃'s mean and the loss's denominator are taken over the rank's rollout batch (the reference:
  per micro-batch), so at ``loss.agg=token_mean``, one rank and one mini-batch they are exact;
- the GRPO branch uses the shared clip (no dual clip c = 3): it only sees A_i > 0 rows, where the
  dual clip never acts;
- the teacher prompt is ours (the task's ``solution`` template), not RLCSD's scaffold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from creditzoo.algorithms.base import FULL_VOCABULARY, Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import (
    RewardScale,
    broadcast_to_tokens,
    group_baseline_advantage,
    masked_mean,
)
from creditzoo.algorithms.sdpo import jsd_target
from creditzoo.types import Credit, RolloutBatch


@register("srpo")
@dataclass
class SRPO(Algorithm):
    """Sample routing: GRPO on correct rows, teacher-entropy-weighted SDPO on the rest.

    Args:
        beta: temperature β of the dynamic weight exp(−β·H_T) (0: uniform).
        alpha: α of the generalized JSD (0 = forward KL(T‖S), 1 = reverse KL(S‖T)).
        is_clip: upper clip of the detached IS ratio on the distillation term; None disables.
        top_k: support = the teacher's top-k ids + a tail bucket; None = the whole vocabulary.
        scale_rewards, eps: as grpo's.
    """

    beta: float = param(1.0, ge=0.0)
    alpha: float = param(0.5, ge=0.0, le=1.0)
    is_clip: float | None = param(2.0, gt=0.0)
    top_k: int | None = param(100, ge=1)
    scale_rewards: RewardScale = "group"
    eps: float = param(1e-6, gt=0.0)

    requires = frozenset({"teacher_topk_ids", "teacher_topk_logprobs", "teacher_entropies"})
    teacher = TeacherSpec(context="solution", weights="ema", ema_decay=0.95)
    components = frozenset({"distill"})

    def teacher_spec(self) -> TeacherSpec:
        return replace(self.teacher, top_k=self.top_k or FULL_VOCABULARY)

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        mask = batch.response_mask
        assert batch.teacher_entropies is not None
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        correct = adv > 0  # the reference reads the sign of the row's mean token advantage
        routed = mask & ~correct[:, None]
        # exp(−β·H) / its mean over routed tokens, shifted by the max for stability (exact).
        log_w = -self.beta * batch.teacher_entropies.float()
        shift = log_w[routed].max() if routed.any() else log_w.new_zeros(())
        raw = torch.where(routed, (log_w - shift).exp(), 0.0)
        mean = raw.sum() / routed.sum().clamp(min=1)
        weight = raw / mean.clamp(min=1e-12)
        return Credit(
            advantages=broadcast_to_tokens(torch.where(correct, adv, 0.0), mask),
            metrics={
                "correct_row_frac": float(correct.float().mean()),
                "distilled_token_frac": masked_mean(routed.float(), mask),
                "dw_weight_mean": float(mean),
            },
            components={"distill": jsd_target(batch, weight, self.alpha, self.top_k, self.is_clip)},
        )
