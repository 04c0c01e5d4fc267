"""Architecture of the tiny model: its config and a freshly initialised instance.

Its own module so that the warm start (which trains this architecture) and the loader (which
warm-starts when the shipped weights are absent) both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from creditzoo.models.tiny_tokenizer import build_tiny_tokenizer


@dataclass(frozen=True)
class TinyConfig:
    """Architecture of the tiny model (1,063,168 params with the 105-token tokenizer)."""

    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 512
    max_position_embeddings: int = 256
    rope_theta: float = 10000.0

    def to_llama(self, vocab_size: int, bos_id: int, eos_id: int, pad_id: int) -> LlamaConfig:
        return LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            num_key_value_heads=self.num_heads,
            max_position_embeddings=self.max_position_embeddings,
            rope_theta=self.rope_theta,
            tie_word_embeddings=True,
            bos_token_id=bos_id,
            eos_token_id=eos_id,
            pad_token_id=pad_id,
            dtype="float32",
        )


def build_tiny_model(
    vocab_size: int, seed: int, config: TinyConfig | None = None
) -> LlamaForCausalLM:
    """A freshly initialised tiny Llama; ``seed`` fixes the init (the global RNG is restored)."""
    tok = build_tiny_tokenizer()
    cfg = (config or TinyConfig()).to_llama(
        vocab_size, tok.bos_token_id, tok.eos_token_id, tok.pad_token_id
    )
    cfg._attn_implementation = "sdpa"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(cfg)
    model.generation_config.bos_token_id = tok.bos_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    return model
