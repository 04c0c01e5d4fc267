"""Small pure tensor helpers shared by algorithms. Shapes: N rows, T tokens."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

RewardScale = Literal["group", "batch", "none"]


def group_baseline_advantage(
    rewards: Tensor, group_ids: Tensor, scale: RewardScale = "group", eps: float = 1e-6
) -> Tensor:
    """Outcome advantage per row, ``[N]``.

    A_i = (R_i − mean_g R) / (std + eps), where the mean is over row i's group and std (unbiased,
    torch's default) is over the group (``scale="group"``), over the whole batch (``"batch"``),
    or not applied (``"none"``, Dr. GRPO). A group of one row, or with equal rewards, gives 0.
    """
    rewards = rewards.float()
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    num_groups = counts.numel()
    sums = rewards.new_zeros(num_groups).index_add_(0, inverse, rewards)
    means = sums / counts
    centred = rewards - means[inverse]
    singleton = counts[inverse] == 1
    if scale == "none":
        adv = centred
    elif scale == "group":
        sq = rewards.new_zeros(num_groups).index_add_(0, inverse, centred**2)
        std = (sq / (counts - 1).clamp(min=1)).sqrt()
        adv = centred / (std[inverse] + eps)
    elif scale == "batch":
        std = rewards.std() if rewards.numel() > 1 else rewards.new_zeros(())
        adv = centred / (std + eps)
    else:
        raise ValueError(f"scale_rewards must be 'group', 'batch' or 'none', got {scale!r}")
    return adv.masked_fill(singleton, 0.0)


def broadcast_to_tokens(row_values: Tensor, response_mask: Tensor) -> Tensor:
    """``[N]`` → ``[N, T]``, exactly 0 where the mask is False."""
    return row_values[:, None].float() * response_mask.float()


def masked_mean(values: Tensor, mask: Tensor) -> float:
    """Mean over True positions; 0.0 when the mask is empty."""
    count = mask.sum()
    if count == 0:
        return 0.0
    return float((values * mask).sum() / count)


def informative_group_fraction(rewards: Tensor, group_ids: Tensor) -> float:
    """Fraction of groups whose rewards are not all equal (the only ones that carry signal)."""
    informative, _ = _informative_groups(rewards, group_ids)
    return float(informative.float().mean()) if informative.numel() else 0.0


def informative_rows(rewards: Tensor, group_ids: Tensor) -> Tensor:
    """``[N]`` bool: the row's group has rewards that are not all equal."""
    informative, inverse = _informative_groups(rewards, group_ids)
    return informative[inverse]


def _informative_groups(rewards: Tensor, group_ids: Tensor) -> tuple[Tensor, Tensor]:
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    n = counts.numel()
    r = rewards.float()
    hi = r.new_full((n,), -torch.inf).scatter_reduce(0, inverse, r, "amax")
    lo = r.new_full((n,), torch.inf).scatter_reduce(0, inverse, r, "amin")
    return hi > lo, inverse


def linear_decay(value0: float, step: int, steps: int) -> float:
    """``value0·max(0, 1 − step/steps)``; ``steps <= 0`` keeps ``value0`` constant.

    ``step`` is 0-based, so step 0 gets the full value and step ≥ ``steps`` gets 0 (the same
    schedule as the RLCSD reference's 1-based ``λ0·(1 − (s−1)/D)``).
    """
    if steps <= 0:
        return float(value0)
    return float(value0) * max(0.0, 1.0 - step / steps)


def evidence_weight(
    adv_rows: Tensor, delta: Tensor, lam: float, eps_w: float
) -> tuple[Tensor, Tensor]:
    """RLSD/CEPO per-token advantage multiplier (arXiv 2604.03128, 2605.19436).

    w = clip(exp(sign(A_i)·Δ), 1−ε_w, 1+ε_w);  multiplier = (1−λ) + λ·w, so Â = A_i · multiplier.

    Args:
        adv_rows: ``[N]`` outcome advantages A_i (only their sign is used).
        delta: ``[N, T]`` per-token log-ratio Δ (no grad).
    Returns:
        (multiplier ``[N, T]``, bool ``[N, T]`` where the unclipped weight reached a bound).
    """
    # The exponent clamp only avoids inf; any |x| > log(1+ε_w) is clipped to a bound anyway.
    raw = torch.exp((torch.sign(adv_rows)[:, None] * delta.float()).clamp(-60.0, 60.0))
    low, high = 1.0 - eps_w, 1.0 + eps_w
    at_bound = (raw <= low) | (raw >= high)
    return (1.0 - lam) + lam * raw.clamp(low, high), at_bound


def sibling_table(values: Tensor, group_ids: Tensor) -> tuple[Tensor, Tensor]:
    """Each row's siblings' values: ``[N]`` → (``[N, G]`` values, bool ``[N, G]`` mask).

    Row i holds its whole group's values in row order, then zeros; the mask is True on the
    other rows of the group only (row i's own slot and the padding are False, with finite
    values). G is the largest group size, so memory is N·G, not N². A row alone in its group has
    an all-False mask.
    """
    n = values.shape[0]
    if n == 0:
        return values.new_zeros(0, 0), torch.zeros(0, 0, dtype=torch.bool, device=values.device)
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    g_max = int(counts.max())
    order = torch.argsort(inverse, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(inverse)
    rank[order] = torch.arange(n, device=values.device) - starts[inverse[order]]
    table = values.new_zeros(counts.numel(), g_max)
    table[inverse, rank] = values
    filled = torch.zeros(counts.numel(), g_max, dtype=torch.bool, device=values.device)
    filled[inverse, rank] = True
    mask = filled[inverse].clone()
    mask[torch.arange(n, device=values.device), rank] = False
    return table[inverse], mask
