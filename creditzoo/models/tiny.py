"""The ~1M-param Llama that makes the whole pipeline runnable on 2 CPU cores.

Measured (shared/research/embedded-default.md): this size learns 1–4-op arithmetic with CoT in
about 3 minutes of SFT; a 6M model is 4x slower per step and does not reach a usable start.
``load_tiny`` returns the shipped warm-started weights, or builds them once into a cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from creditzoo.models.cache import build_once, cache_root
from creditzoo.models.tiny_tokenizer import build_tiny_tokenizer

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "tiny"


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


def _is_complete(path: Path) -> bool:
    return (path / "model.safetensors").is_file() and (path / "config.json").is_file()


def _is_built(path: Path) -> bool:
    # warm_start writes warmstart.json last, so it marks a finished build.
    return _is_complete(path) and (path / "warmstart.json").is_file()


def default_cache_dir() -> Path:
    """Where a missing shipped checkpoint is rebuilt; keyed by the warm-start settings so a
    change of recipe never loads stale weights."""
    from creditzoo.models.warmstart import WarmStartConfig

    settings = json.dumps(asdict(WarmStartConfig()), sort_keys=True)
    digest = hashlib.sha256(settings.encode()).hexdigest()[:12]
    return cache_root() / f"tiny-{digest}"


def _warm_start_into(path: Path) -> None:
    from creditzoo.models.warmstart import WarmStartConfig, warm_start

    def build(tmp: Path) -> None:
        log.warning(
            "creditzoo: shipped tiny checkpoint not found; warm-starting one into %s "
            "(takes ~3-4 minutes on 2 CPU cores, once)",
            path,
        )
        warm_start(WarmStartConfig(), tmp)

    build_once(path, build, _is_built)


def load_tiny(path: str | None = None) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast]:
    """Load the warm-started tiny model and its tokenizer (eval mode, fp32, sdpa).

    With ``path=None`` this loads ``creditzoo/assets/tiny``; if that is absent (e.g. a slim
    install) it warm-starts into ``default_cache_dir()`` under a file lock and loads that.
    """
    if path is not None:
        target = Path(path)
        if not _is_complete(target):
            raise FileNotFoundError(
                f"no tiny checkpoint (config.json, model.safetensors) in {path}"
            )
    elif _is_complete(ASSETS_DIR):
        target = ASSETS_DIR
    else:
        target = default_cache_dir()
        if not _is_built(target):
            _warm_start_into(target)
    model = LlamaForCausalLM.from_pretrained(
        target, dtype=torch.float32, attn_implementation="sdpa"
    )
    tokenizer = PreTrainedTokenizerFast.from_pretrained(target)
    model.eval()
    return model, tokenizer
