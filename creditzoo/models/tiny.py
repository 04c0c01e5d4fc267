"""The ~1M-param Llama that makes the whole pipeline runnable on 2 CPU cores.

Measured (shared/research/embedded-default.md): this size learns 1–4-op arithmetic with CoT in
about 3 minutes of SFT; a 6M model is 4x slower per step and does not reach a usable start.
``load_tiny`` returns the shipped warm-started weights, or builds them once into a cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from creditzoo.errors import MissingDataError
from creditzoo.models.cache import build_once, cache_root
from creditzoo.models.factory import MODELS, ModelSpec
from creditzoo.models.tiny_arch import TinyConfig, build_tiny_model

__all__ = ["ASSETS_DIR", "TinyConfig", "build_tiny_model", "load_tiny"]

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "tiny"
# The same model warm-started on free-order solutions (data=arith-free).
FREE_ASSETS_DIR = ASSETS_DIR.parent / "tiny-free"
FREE_RECIPE = (
    "python -m creditzoo.models.warmstart --out creditzoo/assets/tiny-free --order free --threads 1"
)


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
            raise MissingDataError(
                f"no tiny checkpoint (config.json, model.safetensors) in {path}; pass "
                f"model.path=<directory made by `python -m creditzoo.models.warmstart --out …`> "
                f"or leave model.path unset for the shipped one"
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


def _load(path: str | None, dtype: str = "float32") -> tuple[Any, Any]:
    return load_tiny(path)  # float32 by construction: dtype is not a knob of this model


def _load_free(path: str | None, dtype: str = "float32") -> tuple[Any, Any]:
    if path is None and not _is_complete(FREE_ASSETS_DIR):
        raise MissingDataError(
            f"no free-order warm start in {FREE_ASSETS_DIR}; build it with `{FREE_RECIPE}` "
            f"(about 10 minutes on 2 CPU cores)"
        )
    return load_tiny(path or str(FREE_ASSETS_DIR))


MODELS.register(
    "tiny",
    ModelSpec(_load, "~1M-param Llama, warm-started on arithmetic (shipped; CPU default)"),
)
MODELS.register(
    "tiny-free",
    ModelSpec(_load_free, "the tiny model warm-started on free-order solutions (data=arith-free)"),
)
