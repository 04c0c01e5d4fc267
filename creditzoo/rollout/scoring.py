"""Log-probs (and entropies) of given response tokens under a causal LM.

One function serves the behaviour pass, the training pass (with grad) and every teacher pass:
only the prompt differs. Logits are kept for response positions only (``logits_to_keep``) and
log-probs are gathered as ``logit[y] − logsumexp(logits)``, so no ``[n, T, V]`` log-softmax is
materialised beyond the logits themselves.
"""

from __future__ import annotations

import torch
from torch import Tensor


def position_ids_from_mask(attention_mask: Tensor) -> Tensor:
    """Positions that skip left padding, as ``generate`` assigns them."""
    return (attention_mask.long().cumsum(dim=-1) - 1).clamp(min=0)


def token_logprobs(
    model: torch.nn.Module,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    response_ids: Tensor,
    response_mask: Tensor,
    *,
    temperature: float = 1.0,
    with_entropy: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Log p(y_t | prompt, y_<t) for every response position.

    Args:
        prompt_ids / prompt_mask: ``[n, P]`` left-padded.
        response_ids / response_mask: ``[n, T]`` right-padded.
        temperature: logits are divided by it, so log-probs are those of the sampling
            distribution.

    Returns:
        ``([n, T] log-probs, [n, T] entropies or None)``; 0 on padding. Grad flows if enabled.
    """
    device = next(model.parameters()).device
    input_ids = torch.cat([prompt_ids, response_ids], dim=1).to(device)
    attention = torch.cat([prompt_mask, response_mask], dim=1).long().to(device)
    num_response = response_ids.shape[1]
    out = model(
        input_ids=input_ids,
        attention_mask=attention,
        position_ids=position_ids_from_mask(attention),
        logits_to_keep=num_response + 1,
        use_cache=False,
    )
    # The logit at position p predicts token p + 1: drop the last kept position.
    logits = out.logits[:, :-1, :].float()
    if temperature != 1.0:
        logits = logits / temperature
    log_norm = torch.logsumexp(logits, dim=-1)
    target = response_ids.to(device).unsqueeze(-1)
    logp = logits.gather(-1, target).squeeze(-1) - log_norm
    mask = response_mask.to(device)
    logp = logp.masked_fill(~mask, 0.0)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            probs = torch.softmax(logits, dim=-1)
            entropy = (log_norm - (probs * logits).sum(-1)).masked_fill(~mask, 0.0)
    return logp, entropy
