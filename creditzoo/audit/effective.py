"""Effective credit: what a method's per-token advantages amount to once the loss adds them up.

(a) prefix-aggregated: rows of a group that share a prefix push the same log-prob, so their
loss-weighted advantages add (arXiv 2509.21154); (b) realised: the change of every token's
log-prob after one step along the credit's gradient.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from creditzoo.audit.collect import FrozenBatch
from creditzoo.config_schema import FitConfig
from creditzoo.losses import LossNormalizer, gather_ids, micro_batch_loss
from creditzoo.providers.policy import score_passes
from creditzoo.rollout.scoring import prompt_arguments, score_tokens
from creditzoo.types import Credit, RolloutBatch


def loss_weights(mask: Tensor, settings: FitConfig) -> Tensor:
    """The loss's per-token weights over the whole batch, scaled to mean 1 on the mask."""
    w = LossNormalizer(
        agg=settings.loss.agg,
        total_tokens=float(mask.sum()),
        total_rows=float(mask.shape[0]),
        max_len=settings.max_new_tokens,
    ).token_weights(mask)
    return w / w[mask].mean()


def prefix_aggregated(
    advantages: Tensor, response_ids: Tensor, mask: Tensor, group_ids: Tensor, weights: Tensor
) -> Tensor:
    """Σ_j w[j, t]·Â[j, t] over the rows j of the group whose tokens y_≤t equal row i's.

    Rows that share a prefix push the same log-prob (same context, same token), so their
    coefficients add: under GRPO the blame of a wrong response on a prefix it shares with a
    correct sibling cancels (arXiv 2509.21154)."""
    n, t_max = response_ids.shape
    node = torch.zeros(n, t_max, dtype=torch.long)  # a trie node id per (row, position)
    ids: dict[tuple[int, int, int], int] = {}
    rows = response_ids.tolist()
    lengths = mask.sum(dim=1).tolist()
    groups = group_ids.tolist()
    for i in range(n):
        parent = -1 - groups[i]  # each group's root
        for t in range(lengths[i]):
            parent = ids.setdefault((groups[i], parent, rows[i][t]), len(ids))
            node[i, t] = parent
    flat = (weights * advantages * mask).flatten()
    totals = torch.zeros(max(len(ids), 1)).index_add_(
        0, node.flatten()[mask.flatten()], flat[mask.flatten()]
    )
    return torch.where(mask, totals[node], 0.0)


def realised_change(
    policy: torch.nn.Module,
    batch: FrozenBatch,
    rollout: RolloutBatch,
    credit: Credit,
    settings: FitConfig,
    num_rows: int,
) -> Tensor:
    """δ[i, t] = log π'(y_t) − log π(y_t) ``[num_rows, T]`` after one step along this credit's
    gradient (the loss with its components, over the first ``num_rows`` rows: whole groups)
    from the audited weights.

    The step has the length of a fresh AdamW's first step, lr·√P (AdamW's first update is
    lr·sign(g) per parameter), but the gradient's direction, which keeps the credit's relative
    magnitudes that the sign step would flatten. δ shows where the credit goes once it passes
    through the model's shared parameters."""
    model = copy.deepcopy(policy).train()
    params = [p for p in model.parameters() if p.requires_grad]
    seqs = batch.seqs.rows(slice(0, num_rows))
    mask = seqs.response_mask
    normalizer = LossNormalizer(
        agg=settings.loss.agg,
        total_tokens=float(mask.sum()),
        total_rows=float(mask.shape[0]),
        max_len=settings.max_new_tokens,
    )
    step = settings.loss.micro_batch_size
    for start in range(0, seqs.num_rows, step):
        rows = slice(start, min(start + step, seqs.num_rows))
        part = seqs.rows(rows)
        scores = score_tokens(
            model,
            response_ids=part.response_ids,
            response_mask=part.response_mask,
            **prompt_arguments(model, part.prompt_ids, part.prompt_mask),
            temperature=settings.temperature,
            gather_ids=gather_ids(credit.components, rows),
        )
        m = part.response_mask
        loss, _, _ = micro_batch_loss(
            scores.logprobs,
            scores.gathered,
            rollout.logprobs[rows],
            credit.advantages[rows],
            m,
            normalizer.token_weights(m),
            settings.loss,
            components=credit.components,
            rows=rows,
        )
        loss.backward()
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
    if norm > 0:
        length = settings.lr * sum(p.numel() for p in params) ** 0.5
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p -= (length / norm).float() * p.grad
    after, _ = score_passes(
        model, seqs, temperature=settings.temperature, micro_batch_size=step, with_entropy=False
    )
    return (after - rollout.logprobs[:num_rows]) * mask
