"""Model configs → (policy, tokenizer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

MODELS = ("tiny", "smollm2-135m", "hf")


def build_model(name: str, path: str | None = None, dtype: str = "float32", **_: Any):
    """Load the policy and its tokenizer; the tokenizer pads on the left for generation."""
    if name == "tiny":
        from creditzoo.models.tiny import load_tiny

        model, tokenizer = load_tiny(path)
    elif name == "smollm2-135m":
        from creditzoo.models.smollm2 import load_smollm2

        model, tokenizer = load_smollm2(path)
    elif name == "hf":
        if not path:
            raise ValueError("model=hf needs model.path=<hub id or local directory>")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
        except OSError as err:
            local = Path(path).exists()
            raise FileNotFoundError(
                f"could not load model {path!r}: {err}. "
                + (
                    "It is a local path: check it holds config.json and weights."
                    if local
                    else "Offline (HF_HUB_OFFLINE=1) only local copies work: download it where you "
                    "have network access and pass model.path=<local directory>."
                )
            ) from None
    else:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
