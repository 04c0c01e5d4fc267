"""Token tensors of one batch of sampled responses."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class Sequences:
    """Prompts (left-padded) and responses (right-padded) of N rows.

    Attributes:
        prompt_ids: ``[N, P]`` long, left-padded.
        prompt_mask: ``[N, P]`` bool.
        response_ids: ``[N, T]`` long, right-padded; T is the longest response in the batch.
        response_mask: ``[N, T]`` bool; True up to and including the first EOS.
        texts: decoded responses (special tokens removed).
        logprobs: ``[N, T]`` the rollout engine's own log-probs of the sampled tokens, when it
            reports them (vLLM); None when the engine is the policy itself (HF generate).
    """

    prompt_ids: Tensor
    prompt_mask: Tensor
    response_ids: Tensor
    response_mask: Tensor
    texts: list[str]
    logprobs: Tensor | None = None

    @property
    def num_rows(self) -> int:
        return int(self.response_ids.shape[0])

    def rows(self, index: slice | Tensor) -> Sequences:
        texts = self.texts[index] if isinstance(index, slice) else [self.texts[i] for i in index]
        return Sequences(
            self.prompt_ids[index],
            self.prompt_mask[index],
            self.response_ids[index],
            self.response_mask[index],
            texts,
            None if self.logprobs is None else self.logprobs[index],
        )


def response_mask_from_eos(response_ids: Tensor, eos_ids: list[int], pad_id: int) -> Tensor:
    """True on every token up to and including the first EOS (or all generated tokens if none)."""
    is_eos = torch.zeros_like(response_ids, dtype=torch.bool)
    for eos in eos_ids:
        is_eos |= response_ids == eos
    # Tokens strictly after the first EOS are padding that generate appended.
    after_eos = (is_eos.cumsum(dim=1) - is_eos.long()) > 0
    return ~after_eos


def pad_right(rows: list[Tensor], value: float | int = 0) -> tuple[Tensor, Tensor]:
    """Stack 1-D rows of different lengths: ``[n, max(1, longest)]`` right-padded with ``value``,
    and the ``[n, width]`` bool mask of real entries."""
    width = max([1, *(len(r) for r in rows)])
    dtype = rows[0].dtype if rows else torch.long
    out = torch.full((len(rows), width), value, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    return out, torch.arange(width)[None, :] < lengths[:, None]


def trim_right(ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Drop trailing columns that no row uses."""
    used = mask.any(dim=0).nonzero()
    width = int(used.max()) + 1 if used.numel() else 1
    return ids[:, :width], mask[:, :width]
