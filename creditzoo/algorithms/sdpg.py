"""SDPG — GRPO plus a full-vocabulary KL(student ‖ privileged self-teacher) and a reference KL.

Paper: "Self-Distilled Policy Gradient", Liu, Zhang, Zhang, Gu, arXiv 2606.04036 (code:
lauyikfung/SDPG ``verl/trainer/ppo/core_algos.py: compute_sdpg_loss`` and
``_compute_effective_beta``; the KL in ``verl/workers/actor/dp_actor.py:
_compute_kl_distill_micro_batch``; defaults from ``examples/rpg2_trainer/
run_qwen3_4b_sdpg_boxed.sh``).

Formula, per response token t of row i (p = π_θ(·|x, y_<t), q = π_θ(·|c, x, y_<t) the current
policy shown the reference answer c, no gradient; s = step + 1, the reference's 1-based step):
  A_i   = GRPO advantage, std-normalised over the group
  ℓ     = PPO-clip(A_i)
        + β(s)·g_i·min(KL(p ‖ q), 20)                  KL over the whole vocabulary
        + α·f(log π_θ(y_t) − log π_ref(y_t))            π_ref the frozen initial policy
  β(s)  = β·min(1, s/W) · ((S − s)/D if S − D ≤ s, else 1)      (W = warmup_steps, D =
          decay_steps, S = total_steps; a 0 disables that part)
  g_i   = 1[A_i > 0] when ``positive_only``, else 1
  f     = urkl ½u², rkl ½(u+1)², fkl e^{−u}, ufkl e^{−u} + u   (u = the log-ratio above)
All three terms share the loss's token_mean. In the loop: advantages A_i, a "distill" component
(ids = every token, weight β(s)·g_i, divergence = reverse KL clamped at 20) and a "ref_kl"
component on the sampled token (weight α, divergence f).

Shapes and reads: rewards [N], group_ids [N], response_mask [N, T], teacher_topk_ids and
teacher_topk_logprobs [N, T, V] (the whole vocabulary), ref_logprobs [N, T]. Returns advantages
[N, T] (0 off-mask) and the two components.
Reduces to: grpo when β = α = 0 (both components have weight 0).

Deviations:
- the teacher is scored once per rollout batch before the update (``live`` weights); the
  reference scores it inside each micro-batch with the weights of that moment (the same at
  ``loss.mini_batches=1``), and leaves the teacher's logits at temperature 1 while dividing the
  student's by the sampling temperature (the same at ``temperature=1``);
- the reference trains with DAPO's dual clip (c = 10), dynamic group filtering and an overlong
  reward penalty: none of these here (the dual clip cannot act at one PPO epoch);
- S defaults to the run's ``max_steps`` (``fit`` fills ``total_steps=0``); used directly with 0
  the decay is skipped, as in the reference when ``total_training_steps`` is 0;
- the teacher prompt is ours (the task's ``answer`` template), not the reference's "The correct
  answer to this problem is: {answer} Use this to verify your reasoning, …".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

import torch
from torch import Tensor

from creditzoo.algorithms.base import FULL_VOCABULARY, Algorithm, TeacherSpec, param, register
from creditzoo.algorithms.ops import RewardScale, broadcast_to_tokens, group_baseline_advantage
from creditzoo.losses import generalized_jsd
from creditzoo.types import Credit, DistillTarget, RolloutBatch

KLMode = Literal["urkl", "rkl", "fkl", "ufkl"]
KL_CLAMP = 20.0  # the reference clamps the per-token KL (a clamp: no gradient above it)

# f(u), u = log π_θ − log π_ref of the sampled token (compute_sdpg_loss's α term).
REF_PENALTIES: dict[str, Callable[[Tensor], Tensor]] = {
    "urkl": lambda u: 0.5 * u**2,
    "rkl": lambda u: 0.5 * (u + 1.0) ** 2,
    "fkl": lambda u: torch.exp(-u),
    "ufkl": lambda u: torch.exp(-u) + u,
}


def effective_beta(beta: float, step: int, total: int, warmup: int, decay: int) -> float:
    """β(s) of ``_compute_effective_beta``: linear warm-up over the first ``warmup`` steps, linear
    decay to 0 over the last ``decay`` of ``total`` (skipped when ``total`` is 0); 1-based s."""
    value = beta
    if warmup > 0 and step < warmup:
        value = beta * step / warmup
    if decay > 0 and total > 0 and step >= total - decay:
        value = value * max(total - step, 0) / decay
    return value


def reverse_kl(student: Tensor, teacher: Tensor) -> Tensor:
    """min(KL(p_S ‖ p_T), 20) over the full vocabulary ``[..., V]`` → ``[...]``."""
    return generalized_jsd(student, teacher, beta=1.0, add_tail=False).clamp(max=KL_CLAMP)


def ref_penalty(student: Tensor, ref: Tensor, mode: str) -> Tensor:
    """f(log π_θ(y_t) − log π_ref(y_t)) on ``[..., 1]`` → ``[...]``."""
    return REF_PENALTIES[mode]((student - ref).squeeze(-1))


@register("sdpg")
@dataclass
class SDPG(Algorithm):
    """GRPO + β(s)·KL(student ‖ answer-shown self-teacher) + α·f(reference log-ratio).

    Args:
        beta: β, the distillation coefficient.
        alpha: α, the reference-KL coefficient (0 disables).
        kl_mode: f of the α term: ``urkl`` ½u², ``rkl``, ``fkl``, ``ufkl`` (see the module).
        warmup_steps: W, linear warm-up of β (0: none).
        decay_steps: D, linear decay of β over the run's last D steps (0: none).
        total_steps: S for the decay; 0: the run's ``max_steps``.
        positive_only: distil only rows with A_i > 0.
        scale_rewards, eps: as grpo's.
    """

    beta: float = param(0.001, ge=0.0)
    alpha: float = param(0.001, ge=0.0)
    kl_mode: KLMode = "urkl"
    warmup_steps: int = param(0, ge=0)
    decay_steps: int = param(0, ge=0)
    total_steps: int = param(0, ge=0)
    positive_only: bool = False
    scale_rewards: RewardScale = "group"
    eps: float = param(1e-6, gt=0.0)

    requires = frozenset({"teacher_topk_ids", "teacher_topk_logprobs", "ref_logprobs"})
    teacher = TeacherSpec(context="answer", weights="live", top_k=FULL_VOCABULARY)
    components = frozenset({"distill", "ref_kl"})

    @torch.no_grad()
    def compute(self, batch: RolloutBatch) -> Credit:
        mask = batch.response_mask
        assert batch.teacher_topk_ids is not None and batch.teacher_topk_logprobs is not None
        assert batch.ref_logprobs is not None
        adv = group_baseline_advantage(batch.rewards, batch.group_ids, self.scale_rewards, self.eps)
        beta = effective_beta(
            self.beta, batch.step + 1, self.total_steps, self.warmup_steps, self.decay_steps
        )
        gate = (adv > 0).float() if self.positive_only else torch.ones_like(adv)
        return Credit(
            advantages=broadcast_to_tokens(adv, mask),
            metrics={"beta_effective": beta, "distilled_row_frac": float(gate.mean())},
            components={
                "distill": DistillTarget(
                    ids=batch.teacher_topk_ids,
                    logprobs=batch.teacher_topk_logprobs,
                    weight=broadcast_to_tokens(gate * beta, mask),
                    divergence=reverse_kl,
                ),
                "ref_kl": DistillTarget(
                    ids=None,
                    logprobs=batch.ref_logprobs[..., None],
                    weight=mask.float() * self.alpha,
                    divergence=partial(ref_penalty, mode=self.kl_mode),
                ),
            },
        )
