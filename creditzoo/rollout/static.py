"""Rollout engine with a preallocated KV cache and a lean decode loop (CPU and GPU).

``model.generate`` spends a fixed few milliseconds per decode step on things an RL rollout does
not need (logits-processor and stopping-criteria objects, growing caches re-concatenated every
step, a 4D attention mask rebuilt from the 2D one, kwargs plumbing). This engine calls the
model's own forward directly:

- one prefill over the left-padded prompts, then one forward per new token, into a
  ``StaticCache`` allocated once for prompt + ``max_new_tokens`` positions;
- the decode-step attention mask is a view of one preallocated buffer, updated in place;
- sampling is exactly ``generate``'s with ``top_k=0, top_p=1``: ``softmax(logits / T)`` then
  ``torch.multinomial``, greedy ``argmax`` at ``temperature=0``; a finished row emits padding;
- the loop stops as soon as every row has emitted EOS;
- the sampled tokens' log-probs under the sampling distribution come back in
  ``Sequences.logprobs`` (the loop logs their gap to the trainer's pass).

Greedy output equals ``generate``'s token for token (tests/unit/test_static_engine.py), and
sampling draws from the same distribution. ``min_new_tokens`` forbids EOS before that many
tokens (as ``generate``'s ``min_new_tokens``); it exists for benchmarks with forced lengths and
changes the distribution, so leave it at 0 for training. Any model whose forward accepts a
``StaticCache`` works; ``cache=dynamic`` is the escape hatch for one that does not, and
``rollout=hf`` (``model.generate``) stays the fallback engine.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase, StaticCache
from transformers.cache_utils import StaticLayer

from creditzoo.data.prompts import encode_left_padded
from creditzoo.distributed import global_max, is_sharded
from creditzoo.rollout.hf import decode_responses, eos_token_ids, finish_responses, pad_token_id
from creditzoo.rollout.sampler import ENGINES
from creditzoo.rollout.scoring import (
    cache_keyword,
    distinct_prompts,
    eval_mode,
    no_autograd,
    position_ids_from_mask,
)
from creditzoo.rollout.sequences import Sequences


@ENGINES.register("static")
class StaticCacheSampler:
    """Samples responses with a static KV cache and a direct decode loop.

    Args:
        model: the policy (sampled in eval mode, no grad).
        tokenizer: left padding is forced.
        batch_size: rows per decode loop (memory knob).
        cache: ``static`` (preallocated) or ``dynamic`` (transformers' growing cache).
        min_new_tokens: EOS is masked out before this many new tokens (benchmarks only).
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        batch_size: int = 256,
        cache: Literal["static", "dynamic"] = "static",
        min_new_tokens: int = 0,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.eos_ids = eos_token_ids(model, tokenizer)
        self.pad_id = pad_token_id(tokenizer, self.eos_ids)
        if cache not in ("static", "dynamic"):
            raise ValueError(f"rollout.cache must be 'static' or 'dynamic', got {cache!r}")
        self.cache = cache
        self.min_new_tokens = min_new_tokens
        # A ready 4D mask skips the per-step mask construction; transformers returns a 4D mask
        # as is, which would also drop a sliding window, so such models get the 2D mask.
        text_config = model.config.get_text_config(decoder=True)
        layer_types = getattr(text_config, "layer_types", None) or ["full_attention"]
        self._mask_4d = all(t == "full_attention" for t in layer_types) and not getattr(
            text_config, "use_sliding_window", False
        )
        self._cache_kw = cache_keyword(model)

    def encode_prompts(self, prompts: list[str]) -> tuple[Tensor, Tensor]:
        """Left-padded ``[N, P]`` ids and bool mask. Prompts are already fully rendered."""
        return encode_left_padded(self.tokenizer, prompts)

    def sync_weights(self, policy: torch.nn.Module) -> None:
        """Nothing to do: the decode loop runs on the policy itself."""

    @torch.no_grad()
    def generate(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float = 1.0
    ) -> Sequences:
        """One response per prompt string (repeat a prompt G times for a group)."""
        prompt_ids, prompt_mask = self.encode_prompts(prompts)
        ids_chunks, logp_chunks = [], []
        with eval_mode(self.model), no_autograd(self.model):
            for start in range(0, len(prompts), self.batch_size):
                sl = slice(start, start + self.batch_size)
                ids, logp = self._decode(
                    prompt_ids[sl], prompt_mask[sl], max_new_tokens, temperature
                )
                ids_chunks.append(ids)
                logp_chunks.append(logp)
        # Cloned outside inference mode: ordinary tensors, usable by the training pass.
        ids_chunks = [c.clone() for c in ids_chunks]
        logp_chunks = [c.clone() for c in logp_chunks]
        width = max(c.shape[1] for c in ids_chunks)
        response_ids = torch.cat(
            [
                torch.nn.functional.pad(c, (0, width - c.shape[1]), value=self.pad_id)
                for c in ids_chunks
            ]
        )
        logprobs = torch.cat(
            [torch.nn.functional.pad(c, (0, width - c.shape[1])) for c in logp_chunks]
        )
        response_ids, response_mask = finish_responses(response_ids, self.eos_ids, self.pad_id)
        logprobs = logprobs[:, : response_ids.shape[1]].masked_fill(~response_mask, 0.0)
        texts = decode_responses(self.tokenizer, response_ids, response_mask, self.pad_id)
        return Sequences(prompt_ids, prompt_mask, response_ids, response_mask, texts, logprobs)

    def _decode(
        self, prompt_ids: Tensor, prompt_mask: Tensor, max_new_tokens: int, temperature: float
    ) -> tuple[Tensor, Tensor]:
        """``[n, ≤max_new_tokens]`` sampled ids (pad after EOS) and their log-probs."""
        model = self.model
        device = model.device
        n, p = prompt_ids.shape
        total = p + max_new_tokens
        mask = torch.zeros(n, total, dtype=torch.long, device=device)
        mask[:, :p] = prompt_mask.to(device)
        if self.cache == "static":
            cache = StaticCache(config=model.config, max_cache_len=total)
            for layer in cache.layers:
                if type(layer) is StaticLayer and self._mask_4d:
                    layer.__class__ = _FilledStaticLayer
        else:
            cache = DynamicCache(config=model.config)
        positions = position_ids_from_mask(mask[:, :p])
        # A group repeats its prompt G times: prefill each distinct prompt once, then give every
        # row its prompt's cache.
        shared = distinct_prompts(prompt_ids, prompt_mask)
        if not all(
            isinstance(layer, _FilledStaticLayer) for layer in getattr(cache, "layers", [None])
        ):  # only this layer can hand its rows out
            shared = {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask}
        index = shared.get("prompt_index")
        prefill_mask = shared["prompt_mask"].long().to(device)
        out = model(
            input_ids=shared["prompt_ids"].to(device),
            attention_mask=prefill_mask,
            position_ids=position_ids_from_mask(prefill_mask),
            use_cache=True,
            logits_to_keep=1,
            **{self._cache_kw: cache},
        )
        logits = out.logits
        if index is not None:
            index = index.to(device)
            for layer in cache.layers:
                layer.expand_rows(index)
            logits = logits[index]
        position = positions[:, -1:] + 1
        eos = torch.tensor(self.eos_ids, device=device)
        ids = torch.full((n, max_new_tokens), self.pad_id, dtype=torch.long, device=device)
        logps = torch.zeros(n, max_new_tokens, device=device)
        finished = torch.zeros(n, dtype=torch.bool, device=device)
        step_mask = mask.bool()[:, None, None, :] if self._mask_4d else None
        steps = 0
        synced = is_sharded(model)  # FSDP: every rank must run as many forwards as the slowest
        for t in range(max_new_tokens):
            logits = logits[:, -1, :].float()
            token, logp = self._sample(
                logits, temperature, forbid_eos=t < self.min_new_tokens, eos=eos
            )
            token = token.masked_fill(finished, self.pad_id)
            ids[:, t] = token
            logps[:, t] = logp.masked_fill(finished, 0.0)
            finished |= torch.isin(token, eos)
            steps = t + 1
            if t == max_new_tokens - 1 or _all_finished(finished, synced):
                break
            mask[:, p + t] = 1
            if step_mask is not None:
                step_mask[:, 0, 0, p + t] = True
                attention = step_mask[..., : p + t + 1]
            else:
                attention = mask if self.cache == "static" else mask[:, : p + t + 1]
            out = model(
                input_ids=token[:, None],
                attention_mask=attention,
                position_ids=position,
                cache_position=torch.tensor([p + t], device=device),
                use_cache=True,
                logits_to_keep=1,
                **{self._cache_kw: cache},
            )
            logits = out.logits
            position = position + 1
        return ids[:, :steps].cpu(), logps[:, :steps].cpu()

    @staticmethod
    def _sample(
        logits: Tensor, temperature: float, *, forbid_eos: bool, eos: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Next token as ``generate`` draws it, and its log-prob under the policy at ``T``."""
        scaled = logits / temperature if temperature > 0 else logits
        log_norm = torch.logsumexp(scaled, dim=-1)
        masked = scaled.index_fill(-1, eos, float("-inf")) if forbid_eos else scaled
        if temperature > 0:
            token = torch.multinomial(torch.softmax(masked, dim=-1), num_samples=1).squeeze(1)
        else:
            token = masked.argmax(dim=-1)
        return token, scaled.gather(-1, token[:, None]).squeeze(1) - log_norm


class _FilledStaticLayer(StaticLayer):
    """A ``StaticLayer`` that writes by slice (``index_copy_`` is slow on CPU) and, at a decode
    step, attends over the filled positions only (the engine passes a mask of that length)."""

    filled: int

    def update(self, key_states: Tensor, value_states: Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
            self.filled = 0
        start, n = self.filled, key_states.shape[-2]
        self.keys[:, :, start : start + n] = key_states
        self.values[:, :, start : start + n] = value_states
        self.filled = start + n
        self.cumulative_length.add_(n)
        if n > 1:  # prefill: transformers built a mask over the whole cache
            return self.keys, self.values
        return self.keys[:, :, : self.filled], self.values[:, :, : self.filled]

    def expand_rows(self, index: Tensor) -> None:
        """Row i takes the cache of row ``index[i]`` (prefix sharing within a group)."""
        self.keys = self.keys.index_select(0, index)
        self.values = self.values.index_select(0, index)
        self.batch_size = int(index.numel())


def _all_finished(finished: Tensor, synced: bool) -> bool:
    """Every row has ended — on every rank when ``synced`` (one all-reduce per step)."""
    done = bool(finished.all())
    return global_max(int(not done)) == 0 if synced else done
