"""SDPO — self-distillation toward the same model shown a successful sibling rollout.

Paper: "Reinforcement Learning via Self-Distillation", Hübotter et al., arXiv 2601.20802 (code:
lasgroup/SDPO ``verl/trainer/ppo/core_algos.py: compute_self_distillation_loss``, the teacher
prompt and row mask in ``verl/trainer/ppo/ray_trainer.py: _maybe_build_self_distillation_batch``
and ``_get_solution``, the EMA teacher in ``verl/workers/actor/dp_actor.py: _update_teacher``,
defaults in ``verl/trainer/config/actor/actor.yaml`` and ``verl/trainer/config/sdpo.yaml``;
RLCSD's reimplementation: THU-BPM/RLCSD ``third_party/verl/verl/trainer/ppo/core_algos.py:
compute_policy_loss_sdpo``).

Formula, per response token t of row i (s = student, T = the EMA teacher shown row i's first
correct sibling, ``first_correct_sibling``; m_i = the row has one, ``teacher_mask``):
  D_t  = α·KL(p_T ‖ M) + (1−α)·KL(p_S ‖ M),  M = (1−α)·p_S + α·p_T,  α = 0.5
         (generalized JSD on the teacher's top-k ids + a tail bucket)
  ρ_t  = sg(min(exp(logp − old_logp), is_clip))                  (IS ratio, no gradient)
  L    = Σ_{i: m_i} Σ_t ρ_t·D_t / Σ_{i: m_i} |y_i|                (token mean over distilled rows)
No policy-gradient term: the advantages are 0 and the loss is the "distill" component, whose
weight m_i·N/N_m (N every real token, N_m those of distilled rows) turns the shared loss's
token_mean into the reference's mean over distilled tokens. Teacher: θ_T ← 0.95·θ_T + 0.05·θ
after each optimizer step (``teacher_update_rate`` 0.05).

``sdpo-rlcsd`` is RLCSD's reimplementation: the same loss on every row (m_i = 1: the teacher is
shown the reference ``solution``, which every row has), a plain token mean.

Shapes and reads: response_mask [N, T], teacher_mask [N], teacher_topk_ids and
teacher_topk_logprobs [N, T, K]. Returns advantages [N, T] (all 0) and the ``DistillTarget``.
Reduces to: ``opsd`` with β = α when every row has its context, is_clip = None and the same
teacher (the IS ratio is 1 at one PPO epoch, so at ``loss.mini_batches=1`` only the teacher's
weights and context differ).

Deviations:
- the top-k support is the teacher's top-k ids (the loop's teacher pass); the references gather
  at the *student's* top-k. ``top_k=None`` uses the whole vocabulary, where the two agree;
- the denominator N_m and the IS ratio's old log-probs are counted over the rank's rollout batch
  and the behaviour pass (the reference normalises per micro-batch; with one PPO epoch its
  ``on_policy`` path sets old_logp = logp, ρ = 1, as here at ``loss.mini_batches=1``);
- the teacher prompt is ours (the task's ``correct_sibling`` template), not the reference's
  "{prompt}\\n\\nCorrect solution:\\n\\n{attempt}\\n\\nCorrectly solve the original question.";
  success = the verifier's ``correct`` (the reference: reward ≥ 0.5; the same for 0/1 rewards);
  no environment feedback (math tasks have none);
- the EMA step runs after every optimizer step (the reference's ``_update_teacher`` runs once per
  ``update_policy``; the same at ``loss.mini_batches=1``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import torch
from torch import Tensor

from creditzoo.algorithms.base import (
    FULL_VOCABULARY,
    Algorithm,
    TeacherSpec,
    param,
    register,
)
from creditzoo.algorithms.ops import masked_mean
from creditzoo.losses import generalized_jsd
from creditzoo.types import Credit, DistillTarget, RolloutBatch


def jsd_target(
    batch: RolloutBatch, weight: Tensor, alpha: float, top_k: int | None, is_clip: float | None
) -> DistillTarget:
    """The SDPO distillation term: generalized JSD(α) toward the teacher's top-k (+ tail, or the
    whole vocabulary when ``top_k`` is None), scaled by ``weight`` [N, T] and the IS ratio."""
    assert batch.teacher_topk_ids is not None and batch.teacher_topk_logprobs is not None
    tail = top_k is not None  # the whole vocabulary leaves no tail to model
    return DistillTarget(
        ids=batch.teacher_topk_ids,
        logprobs=batch.teacher_topk_logprobs,
        weight=weight,
        divergence=partial(generalized_jsd, beta=alpha, add_tail=tail),
        monitors={"kl": partial(generalized_jsd, beta=0.0, add_tail=tail)},
        is_clip=is_clip,
    )


@register("sdpo")
@dataclass
class SDPO(Algorithm):
    """Self-distillation toward the EMA self-teacher shown a successful sibling.

    Args:
        alpha: α of the generalized JSD (0 = forward KL(T‖S), 1 = reverse KL(S‖T)).
        is_clip: upper clip of the detached IS ratio on the distillation term; None disables.
        top_k: support = the teacher's top-k ids + a tail bucket; None = the whole vocabulary.
    """

    alpha: float = param(0.5, ge=0.0, le=1.0)
    is_clip: float | None = param(2.0, gt=0.0)
    top_k: int | None = param(100, ge=1)

    requires = frozenset({"teacher_topk_ids", "teacher_topk_logprobs", "teacher_mask"})
    teacher = TeacherSpec(context="first_correct_sibling", weights="ema", ema_decay=0.95)
    components = frozenset({"distill"})

    def teacher_spec(self) -> TeacherSpec:
        return replace(self.teacher, top_k=self.top_k or FULL_VOCABULARY)

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        mask = batch.response_mask
        assert batch.teacher_mask is not None
        routed = mask & batch.teacher_mask.bool()[:, None]
        n_routed = float(routed.sum())
        # token_mean divides by every real token; the reference by the distilled ones only.
        scale = float(mask.sum()) / n_routed if n_routed else 0.0
        return Credit(
            advantages=torch.zeros(mask.shape, device=mask.device),
            metrics={
                "distilled_row_frac": float(batch.teacher_mask.float().mean()),
                "distilled_token_frac": masked_mean(routed.float(), mask),
            },
            components={
                "distill": jsd_target(
                    batch, routed.float() * scale, self.alpha, self.top_k, self.is_clip
                )
            },
        )


@register("sdpo-rlcsd")
@dataclass
class SDPORLCSD(SDPO):
    """SDPO as THU-BPM/RLCSD runs it: every row, teacher shown the reference solution.

    Args: as ``sdpo``'s (RLCSD's configs: α 0.5, is_clip 2, top-100 + tail, EMA 0.95).
    """

    teacher = TeacherSpec(context="solution", weights="ema", ema_decay=0.95)
