"""Log-probs (and entropies, top-k distributions) of given response tokens under a causal LM.

One function serves the behaviour pass, the training pass (with grad) and every teacher pass:
only the prompt differs. Logits are kept for response positions only (``logits_to_keep``) and
log-probs are gathered as ``logit[y] − logsumexp(logits)``, so no ``[n, T, V]`` log-softmax is
materialised beyond the logits themselves.

Rows that share a prompt (a group's G samples, a teacher context used by every row of a group)
can pass ``prompt_index``: each distinct prompt is then run once and its KV cache handed to its
rows, so the prompt's tokens cost one forward per distinct prompt instead of one per row.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cache

import torch
from torch import Tensor
from transformers import PreTrainedModel

from creditzoo.distributed import is_sharded


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


def no_autograd(model: torch.nn.Module) -> AbstractContextManager:
    """The context for a pass that needs no gradient: ``torch.inference_mode()``, which also
    drops autograd's per-op bookkeeping (a few percent of a teacher pass or a decode step on CPU).

    Tensors made inside are inference tensors: build what leaves the pass outside it (``cat``,
    ``stack`` or ``clone`` there give ordinary tensors that a training graph may save). Under
    FSDP it is ``torch.no_grad()``: the all-gathered parameters must stay ordinary tensors.
    """
    return torch.no_grad() if is_sharded(model) else torch.inference_mode()


def position_ids_from_mask(attention_mask: Tensor) -> Tensor:
    """Positions that skip left padding, as ``generate`` assigns them."""
    return (attention_mask.long().cumsum(dim=-1) - 1).clamp(min=0)


def cache_keyword(model: torch.nn.Module) -> str:
    """The name a model's forward gives its KV cache (transformers 5 renamed
    ``past_key_values`` to ``cache``); wrappers (peft, adapter views) are looked through."""
    inner = next((m for m in model.modules() if isinstance(m, PreTrainedModel)), model)
    return _cache_keyword(type(inner))


@cache
def _cache_keyword(cls: type) -> str:
    return "cache" if "cache" in inspect.signature(cls.forward).parameters else "past_key_values"


def distinct_prompts(prompt_ids: Tensor, prompt_mask: Tensor) -> dict[str, Tensor]:
    """``score_tokens`` arguments that prefill each distinct prompt row once.

    Returns ``{"prompt_ids": [u, P], "prompt_mask": [u, P], "prompt_index": [n]}``, or the rows
    as they are (no ``prompt_index``) when no two are equal.
    """
    keyed = torch.cat([prompt_ids, prompt_mask.to(prompt_ids.dtype)], dim=1)
    unique, inverse = torch.unique(keyed, dim=0, return_inverse=True)
    if unique.shape[0] == prompt_ids.shape[0]:
        return {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask}
    width = prompt_ids.shape[1]
    return {
        "prompt_ids": unique[:, :width],
        "prompt_mask": unique[:, width:].to(prompt_mask.dtype),
        "prompt_index": inverse,
    }


def prompt_arguments(
    model: torch.nn.Module, prompt_ids: Tensor, prompt_mask: Tensor
) -> dict[str, Tensor]:
    """``score_tokens``' prompt arguments for a pass of ``model``: each distinct prompt
    prefilled once (``distinct_prompts``), except under FSDP, where every rank must run as many
    forwards as the others whatever its own repeats."""
    if is_sharded(model):
        return {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask}
    return distinct_prompts(prompt_ids, prompt_mask)


def score_tokens(
    model: torch.nn.Module,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    response_ids: Tensor,
    response_mask: Tensor,
    *,
    prompt_index: Tensor | None = None,
    temperature: float = 1.0,
    with_entropy: bool = False,
    top_k: int = 0,
    gather_ids: Tensor | None = None,
) -> TokenScores:
    """Log p(y_t | prompt, y_<t) for every response position.

    Args:
        prompt_ids / prompt_mask: ``[n, P]`` left-padded; ``[u, P]`` distinct prompts when
            ``prompt_index`` is given.
        response_ids / response_mask: ``[n, T]`` right-padded.
        prompt_index: ``[n]`` long — row i's prompt is ``prompt_ids[prompt_index[i]]``; the
            distinct prompts are prefilled once and their KV caches shared (same numbers as
            repeating them, up to float rounding).
        temperature: logits are divided by it, so log-probs are those of the sampling
            distribution.
        with_entropy: also the next-token entropy (no grad).
        top_k: also the K most likely next tokens and their log-probs (no grad).
        gather_ids: ``[n, T, K]`` — also the log-probs of these ids (with grad if enabled).
    """
    device = next(model.parameters()).device
    if prompt_index is None:
        logits = _response_logits(model, prompt_ids, prompt_mask, response_ids, response_mask)
    else:
        logits = _response_logits_shared(
            model, prompt_ids, prompt_mask, prompt_index, response_ids, response_mask
        )
    logits = logits.float()
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


def _response_logits(
    model: torch.nn.Module,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    response_ids: Tensor,
    response_mask: Tensor,
) -> Tensor:
    """``[n, T, V]`` logits predicting each response token, one pass over prompt + response."""
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
    return out.logits[:, :-1, :]


def _response_logits_shared(
    model: torch.nn.Module,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    prompt_index: Tensor,
    response_ids: Tensor,
    response_mask: Tensor,
) -> Tensor:
    """As ``_response_logits`` with each distinct prompt prefilled once (``[u, P]`` prompts).

    The prefill's last logit predicts y_0; the response pass over y_0..y_{T-2}, attending to its
    row's cached prompt, predicts y_1..y_{T-1}.
    """
    device = next(model.parameters()).device
    index = prompt_index.to(device)
    prompt_mask = prompt_mask.long().to(device)
    prefill = model(
        input_ids=prompt_ids.to(device),
        attention_mask=prompt_mask,
        position_ids=position_ids_from_mask(prompt_mask),
        use_cache=True,
        logits_to_keep=1,
    )
    first = prefill.logits[index]
    # The output names the cache as the forward's argument does (``cache`` since transformers 5).
    keyword = "cache" if getattr(prefill, "cache", None) is not None else "past_key_values"
    kv = getattr(prefill, keyword, None)
    if kv is None or not hasattr(kv, "batch_select_indices"):  # a model without a usable cache
        rows = prompt_ids.to(device)[index]
        return _response_logits(model, rows, prompt_mask[index], response_ids, response_mask)
    if response_ids.shape[1] == 1:
        return first
    kv.batch_select_indices(index)
    attention = torch.cat([prompt_mask[index], response_mask.long().to(device)], dim=1)[:, :-1]
    out = model(
        input_ids=response_ids[:, :-1].to(device),
        attention_mask=attention,
        position_ids=position_ids_from_mask(attention)[:, prompt_ids.shape[1] :],
        use_cache=True,
        **{keyword: kv},
    )
    return torch.cat([first, out.logits], dim=1)
