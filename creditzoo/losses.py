"""Shared objectives. Every algorithm's advantages go through the same PPO-clip surrogate.

Per token (r = exp(logp − old_logp), Â the algorithm's advantage):
  ℓ[i, t] = −min(r·Â, clip(r, 1−ε_low, 1+ε_high)·Â)  (+ β·k3(ref ‖ π) when a reference is given)
  k3 = exp(ref − logp) − (ref − logp) − 1
Aggregation (DAPO arXiv 2503.14476; GRPO arXiv 2402.03300; Dr. GRPO arXiv 2503.20783):
  token_mean  Σ ℓ·m / Σ m                       (DAPO, default)
  seq_mean    mean_i (Σ_t ℓ·m / |y_i|)          (GRPO)
  const_norm  Σ ℓ·m / (N · T_max)               (Dr. GRPO; T_max = max_new_tokens)
Denominators are counted over the *global* batch of one optimizer step (all micro-batches, all
ranks), so each micro-batch's loss is its exact share: the sum over micro-batches — and the DDP
gradient average times the world size — equals the full-batch loss whatever the micro-batch size.

PPO mini-batches (``loss.mini_batches`` = M): the loop takes M optimizer steps per rollout batch,
each over a contiguous chunk of whole groups and normalised over that chunk's global tokens/rows;
old_logp stays the behaviour log-probs scored before the first step. What is inert at M = 1 (the
default): the policy being updated *is* the behaviour policy, so r = 1 exactly (up to numerics),
the clip — ε_low and the clip-higher ε_high alike — never acts and ``clip_frac`` is 0: the
surrogate is then REINFORCE with per-token advantages, −Â·logp in gradient. The clip acts from
the second mini-batch on.

Further loss components an algorithm returns (``Credit.components``, e.g. OPSD's distillation
target) are added with the same per-token weights w, times the component's own weight (and, when
the component sets ``is_clip``, its detached importance ratio ρ = min(exp(logp − old_logp), c)):
  loss = Σ w·ℓ_pg + Σ_c Σ w·weight_c·[ρ]·ℓ_c
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import torch
from torch import Tensor

from creditzoo.types import DistillTarget

Aggregation = Literal["token_mean", "seq_mean", "const_norm"]
AGGREGATIONS: tuple[str, ...] = ("token_mean", "seq_mean", "const_norm")


@dataclass(frozen=True)
class LossNormalizer:
    """Global-batch denominators for one optimizer step.

    Attributes:
        agg: aggregation mode.
        total_tokens: response tokens in the global batch.
        total_rows: responses in the global batch.
        max_len: T_max for ``const_norm`` (the generation budget, not the batch's padding).
    """

    agg: Aggregation
    total_tokens: float
    total_rows: float
    max_len: int

    def __post_init__(self) -> None:
        if self.agg not in AGGREGATIONS:
            raise ValueError(f"loss.agg must be one of {AGGREGATIONS}, got {self.agg!r}")

    def token_weights(self, mask: Tensor) -> Tensor:
        """``[n, T]`` weights w such that the micro-batch loss is Σ w·ℓ."""
        m = mask.float()
        if self.agg == "token_mean":
            return m / max(self.total_tokens, 1.0)
        if self.agg == "seq_mean":
            lengths = m.sum(dim=1, keepdim=True).clamp(min=1.0)
            return m / lengths / max(self.total_rows, 1.0)
        return m / (max(self.total_rows, 1.0) * self.max_len)


@dataclass
class PolicyLossStats:
    """Sums over one micro-batch, so that they add up across micro-batches."""

    tokens: float = 0.0
    clipped: float = 0.0
    kl: float = 0.0
    ratio: float = 0.0

    def add(self, other: PolicyLossStats) -> None:
        self.tokens += other.tokens
        self.clipped += other.clipped
        self.kl += other.kl
        self.ratio += other.ratio

    def means(self) -> dict[str, float]:
        n = max(self.tokens, 1.0)
        return {"clip_frac": self.clipped / n, "kl_ref": self.kl / n, "ratio_mean": self.ratio / n}


def policy_loss(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    weights: Tensor,
    *,
    clip_low: float = 0.2,
    clip_high: float = 0.28,
    ref_logp: Tensor | None = None,
    kl_coef: float = 0.0,
) -> tuple[Tensor, PolicyLossStats]:
    """PPO-clip surrogate for one micro-batch.

    Args:
        logp: ``[n, T]`` current log-probs (with grad).
        old_logp: ``[n, T]`` behaviour log-probs (no grad).
        advantages: ``[n, T]`` per-token advantages.
        mask: ``[n, T]`` bool response mask.
        weights: ``[n, T]`` from ``LossNormalizer.token_weights``.
        ref_logp: ``[n, T]`` reference log-probs, for the k3 KL penalty when ``kl_coef > 0``.

    Returns:
        (scalar loss share of this micro-batch, statistics sums).
    """
    ratio = torch.exp(logp - old_logp)
    clipped_ratio = ratio.clamp(1.0 - clip_low, 1.0 + clip_high)
    per_token = -torch.minimum(ratio * advantages, clipped_ratio * advantages)
    kl = torch.zeros_like(per_token)
    if kl_coef > 0.0:
        if ref_logp is None:
            raise ValueError("loss.kl_coef > 0 needs reference log-probs")
        d = ref_logp - logp
        kl = torch.exp(d) - d - 1.0
        per_token = per_token + kl_coef * kl
    loss = (per_token * weights).sum()
    with torch.no_grad():
        m = mask.float()
        is_clipped = ((advantages > 0) & (ratio > 1 + clip_high)) | (
            (advantages < 0) & (ratio < 1 - clip_low)
        )
        stats = PolicyLossStats(
            tokens=float(m.sum()),
            clipped=float((is_clipped.float() * m).sum()),
            kl=float((kl.detach() * m).sum()),
            ratio=float((ratio.detach() * m).sum()),
        )
    return loss, stats


class ClipSettings(Protocol):
    """What the surrogate reads of the ``loss.*`` settings (``config_schema.LossSettings``)."""

    clip_low: float
    clip_high: float
    kl_coef: float


def gather_ids(components: Mapping[str, DistillTarget], rows: slice) -> Tensor | None:
    """``[n, T, ΣK]`` token ids whose student log-probs the components need, or None."""
    ids = [c.ids[rows] for c in components.values() if c.ids is not None]
    return torch.cat(ids, dim=-1) if ids else None


def micro_batch_loss(
    logp: Tensor,
    gathered: Tensor | None,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    weights: Tensor,
    settings: ClipSettings,
    *,
    components: Mapping[str, DistillTarget] | None = None,
    rows: slice = slice(None),
    ref_logp: Tensor | None = None,
) -> tuple[Tensor, PolicyLossStats, dict[str, float]]:
    """The PPO-clip surrogate plus every loss component, for rows ``rows`` of the batch.

    Args:
        logp: ``[n, T]`` current log-probs of the sampled tokens (with grad).
        gathered: ``[n, T, ΣK]`` current log-probs at ``gather_ids(components, rows)``.
        old_logp, advantages, mask, weights, ref_logp: ``[n, T]``, as ``policy_loss``.
        components: the algorithm's named components over the whole batch (sliced here).

    Returns:
        (scalar loss share, policy statistics, {component name: its loss share, and
        ``<name>_<key>`` for each of its monitors}).
    """
    loss, stats = policy_loss(
        logp,
        old_logp,
        advantages,
        mask,
        weights,
        clip_low=settings.clip_low,
        clip_high=settings.clip_high,
        ref_logp=ref_logp,
        kl_coef=settings.kl_coef,
    )
    values: dict[str, float] = {}
    offset = 0
    for name, target in (components or {}).items():
        if target.ids is None:  # the sampled token: the surrogate's own log-prob
            student = logp[..., None]
        else:
            assert gathered is not None, "components need the student's log-probs at their ids"
            k = target.ids.shape[-1]
            student = gathered[..., offset : offset + k]
            offset += k
        device = student.device
        goal = target.logprobs[rows].to(device)
        w = target.weight[rows].to(device) * weights
        if target.is_clip is not None:
            w = w * importance_weight(logp, old_logp, target.is_clip)
        part = (target.divergence(student, goal) * w).sum()
        loss = loss + part
        values[name] = float(part.detach())
        with torch.no_grad():
            for key, monitor in target.monitors.items():
                values[f"{name}_{key}"] = float((monitor(student.detach(), goal) * w).sum())
    return loss, stats, values


def importance_weight(logp: Tensor, old_logp: Tensor, clip: float) -> Tensor:
    """``[n, T]`` detached min(exp(logp − old_logp), clip), the exponent clamped to ±20 (SDPO,
    lasgroup/SDPO ``compute_self_distillation_loss``; THU-BPM/RLCSD ``compute_policy_loss_sdpo``).
    Only its value scales the term: no gradient flows through the ratio."""
    return torch.exp((logp - old_logp).detach().clamp(-20.0, 20.0)).clamp(max=clip)


def generalized_jsd(
    student_logp: Tensor,
    teacher_logp: Tensor,
    beta: float = 0.0,
    token_clip: float | None = None,
    add_tail: bool = True,
) -> Tensor:
    """Generalized Jensen–Shannon divergence per position, on a (top-k) support.

    GKD, "On-Policy Distillation of Language Models: Learning from Self-Generated Mistakes",
    arXiv 2306.13649, Eq. 1; as used by OPSD ("Self-Distilled Reasoner", arXiv 2601.18734), with
    the tail bucket of THU-BPM/RLCSD ``_sd_generalized_jsd``.

    Per bucket v (s = log p_S, t = log p_T), summed over v into D_t ≥ 0:
      β = 0:  p_T·(t − s)                                  Σ_v = KL(p_T ‖ p_S), forward KL
      β = 1:  p_S·(s − t)                                  Σ_v = KL(p_S ‖ p_T), reverse KL
      else:   M = log((1−β)·p_S + β·p_T);  β·p_T·(t − M) + (1−β)·p_S·(s − M)
    ``token_clip`` = c bounds each *position* by rescaling, never per bucket:
      ℓ_t = D_t · sg(min(1, c / D_t))
    so ℓ_t = min(D_t, c) in value and its gradient is ∇D_t times a factor in (0, 1]: the clip
    shrinks a position's pull toward the teacher but can neither stop nor reverse it. (The
    references clamp each (position, bucket) term before the sum; a clamped bucket then has zero
    gradient, and where the teacher strongly prefers a token the student is pushed *away* from
    it — research/validity-audit.md §3.) β is compared exactly.

    Args:
        student_logp: ``[..., K]`` student log-probs, full-vocabulary normalised (with grad).
        teacher_logp: ``[..., K]`` teacher log-probs at the same token ids (detached here).
        beta: interpolation β ∈ [0, 1].
        token_clip: per-position bound c > 0 of the value (gradient rescaled); None disables.
        add_tail: append the bucket log(1 − Σ_k p) on both sides (clamped to ≥ ≈ log 1e-7);
            when False, both sides are renormalised over the K ids instead (exact, and a no-op,
            when K is the whole vocabulary).

    Returns:
        ``[...]`` per-position loss.
    """
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"generalized_jsd: beta must be in [0, 1], got {beta}")
    s = student_logp.float()
    t = teacher_logp.detach().float()
    if add_tail:
        s, t = _with_tail(s), _with_tail(t)
    else:
        s = s - torch.logsumexp(s, dim=-1, keepdim=True)
        t = t - torch.logsumexp(t, dim=-1, keepdim=True)
    if beta == 0.0:
        per = t.exp() * (t - s)
    elif beta == 1.0:
        per = s.exp() * (s - t)
    else:
        m = torch.logsumexp(torch.stack([s + math.log(1.0 - beta), t + math.log(beta)]), dim=0)
        per = beta * t.exp() * (t - m) + (1.0 - beta) * s.exp() * (s - m)
    div = per.sum(dim=-1)
    if token_clip is not None:
        # A divergence is ≥ 0; the clamp only guards the ratio against rounding below 0.
        scale = (token_clip / div.detach().clamp(min=1e-12)).clamp(max=1.0)
        div = div * scale
    return div


def _with_tail(logp: Tensor) -> Tensor:
    """``[..., K]`` → ``[..., K+1]``: append log(1 − Σ_k p), computed as log(−expm1(lse))."""
    lse = torch.logsumexp(logp, dim=-1, keepdim=True).clamp(max=-1e-7)
    return torch.cat([logp, torch.log(-torch.expm1(lse))], dim=-1)
