"""Log-probs (and entropies, top-k distributions) of given response tokens under a causal LM.

One function serves the behaviour pass, the training pass (with grad) and every teacher pass:
only the prompt differs. Logits are kept for response positions only (``logits_to_keep``) and
log-probs are gathered as ``logit[y] − logsumexp(logits)``, so no ``[n, T, V]`` log-softmax is
materialised beyond the logits themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class TokenScores:
    """Per-position outputs of one scoring pass; all ``[n, T, ...]``, zero on padding."""

    logprobs: Tensor
    entropy: Tensor | None = None
    topk_ids: Tensor | None = None  # [n, T, K] long
    topk_logprobs: Tensor | None = None  # [n, T, K]
    gathered: Tensor | None = None  # [n, T, K] log-probs at the requested ids


@contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Run no-grad passes in eval mode and restore the previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def position_ids_from_mask(attention_mask: Tensor) -> Tensor:
    """Positions that skip left padding, as ``generate`` assigns them."""
    return (attention_mask.long().cumsum(dim=-1) - 1).clamp(min=0)


def score_tokens(
    model: torch.nn.Module,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    response_ids: Tensor,
    response_mask: Tensor,
    *,
    temperature: float = 1.0,
    with_entropy: bool = False,
    top_k: int = 0,
    gather_ids: Tensor | None = None,
) -> TokenScores:
    """Log p(y_t | prompt, y_<t) for every response position.

    Args:
        prompt_ids / prompt_mask: ``[n, P]`` left-padded.
        response_ids / response_mask: ``[n, T]`` right-padded.
        temperature: logits are divided by it, so log-probs are those of the sampling
            distribution.
        with_entropy: also the next-token entropy (no grad).
        top_k: also the K most likely next tokens and their log-probs (no grad).
        gather_ids: ``[n, T, K]`` — also the log-probs of these ids (with grad if enabled).
    """
    device = next(model.parameters()).device
    input_ids = torch.cat([prompt_ids, response_ids], dim=1).to(device)
    attention = torch.cat([prompt_mask, response_mask], dim=1).long().to(device)
    out = model(
        input_ids=input_ids,
        attention_mask=attention,
        position_ids=position_ids_from_mask(attention),
        logits_to_keep=response_ids.shape[1] + 1,
        use_cache=False,
    )
    # The logit at position p predicts token p + 1: drop the last kept position.
    logits = out.logits[:, :-1, :].float()
    if temperature != 1.0:
        logits = logits / temperature
    log_norm = torch.logsumexp(logits, dim=-1, keepdim=True)
    mask = response_mask.to(device)
    off = ~mask

    def at(ids: Tensor) -> Tensor:
        return (logits.gather(-1, ids) - log_norm).masked_fill(off[..., None], 0.0)

    scores = TokenScores(logprobs=at(response_ids.to(device)[..., None]).squeeze(-1))
    if gather_ids is not None:
        scores.gathered = at(gather_ids.to(device))
    with torch.no_grad():
        if with_entropy:
            probs = torch.softmax(logits, dim=-1)
            entropy = log_norm.squeeze(-1) - (probs * logits).sum(-1)
            scores.entropy = entropy.masked_fill(off, 0.0)
        if top_k:
            values, ids = logits.topk(min(top_k, logits.shape[-1]), dim=-1)
            scores.topk_ids = ids.masked_fill(off[..., None], 0)
            scores.topk_logprobs = (values - log_norm).masked_fill(off[..., None], 0.0)
    return scores
