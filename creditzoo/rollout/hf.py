"""Rollout engine on ``transformers.generate`` (CPU and GPU)."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from creditzoo.data.prompts import encode_left_padded
from creditzoo.distributed import is_sharded
from creditzoo.rollout.sampler import ENGINES
from creditzoo.rollout.scoring import eval_mode
from creditzoo.rollout.sequences import Sequences, response_mask_from_eos, trim_right


@ENGINES.register("hf")
class HFSampler:
    """Samples responses with ``model.generate``: left-padded prompts, stop at EOS.

    Args:
        model: the policy (sampled in eval mode, no grad).
        tokenizer: left padding is forced.
        batch_size: rows per ``generate`` call (memory knob; results do not depend on it
            beyond the RNG stream).
    """

    def __init__(
        self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, batch_size: int = 256
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.eos_ids = eos_token_ids(model, tokenizer)
        self.pad_id = pad_token_id(tokenizer, self.eos_ids)

    def encode_prompts(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded ``[N, P]`` ids and bool mask. Prompts are already fully rendered."""
        return encode_left_padded(self.tokenizer, prompts)

    @torch.no_grad()
    def generate(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float = 1.0
    ) -> Sequences:
        """One response per prompt string (repeat a prompt G times for a group)."""
        prompt_ids, prompt_mask = self.encode_prompts(prompts)
        chunks = []
        with eval_mode(self.model):
            for start in range(0, len(prompts), self.batch_size):
                sl = slice(start, start + self.batch_size)
                chunks.append(
                    self._generate_chunk(
                        prompt_ids[sl], prompt_mask[sl], max_new_tokens, temperature
                    )
                )
        width = max(c.shape[1] for c in chunks)
        response_ids = torch.cat(
            [torch.nn.functional.pad(c, (0, width - c.shape[1]), value=self.pad_id) for c in chunks]
        )
        response_ids, response_mask = finish_responses(response_ids, self.eos_ids, self.pad_id)
        texts = decode_responses(self.tokenizer, response_ids, response_mask, self.pad_id)
        return Sequences(prompt_ids, prompt_mask, response_ids, response_mask, texts)

    def _generate_chunk(self, ids, mask, max_new_tokens: int, temperature: float) -> torch.Tensor:
        sampling = (
            {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
            if temperature > 0
            else {"do_sample": False}
        )
        out = self.model.generate(
            input_ids=ids.to(self.model.device),
            attention_mask=mask.long().to(self.model.device),
            max_new_tokens=max_new_tokens,
            pad_token_id=self.pad_id,
            eos_token_id=self.eos_ids,
            # FSDP: every rank must run the same number of forwards (each one all-gathers the
            # shards), so finished ranks keep stepping until all are done.
            synced_gpus=is_sharded(self.model),
            **sampling,
        )
        return out[:, ids.shape[1] :].cpu()

    def sync_weights(self, policy: torch.nn.Module) -> None:
        """Nothing to do: ``generate`` runs on the policy itself."""


# Free functions shared by the engines (composition, not inheritance: each engine is its own
# class and calls these).
def eos_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Every id that ends a response: the generation config's, else the tokenizer's EOS."""
    eos = getattr(model.generation_config, "eos_token_id", None)
    if eos is None:
        eos = tokenizer.eos_token_id
    ids = eos if isinstance(eos, list) else [eos]
    return [int(i) for i in ids if i is not None]


def pad_token_id(tokenizer: PreTrainedTokenizerBase, eos_ids: list[int]) -> int:
    """The tokenizer's pad id, else the first EOS id."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]


def finish_responses(
    response_ids: torch.Tensor, eos_ids: list[int], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask everything after the first EOS (EOS itself included) and trim all-padding columns."""
    response_mask = response_mask_from_eos(response_ids, eos_ids, pad_id)
    return trim_right(response_ids, response_mask)


def decode_responses(
    tokenizer: PreTrainedTokenizerBase,
    response_ids: torch.Tensor,
    response_mask: torch.Tensor,
    pad_id: int,
) -> list[str]:
    """The response texts, padding and special tokens removed."""
    return tokenizer.batch_decode(
        response_ids.masked_fill(~response_mask, pad_id), skip_special_tokens=True
    )
