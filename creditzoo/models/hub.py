"""``model=hf model.path=<hub id or local directory>``: any causal LM transformers can load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from creditzoo.errors import ConfigError, MissingDataError
from creditzoo.models.factory import MODELS, ModelSpec


def load_hf(path: str | None, dtype: str = "float32") -> tuple[Any, Any]:
    """Model and tokenizer from the hub or a local directory (no remote code is run)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not path:
        raise ConfigError("model=hf needs model.path=<hub id or local directory>")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
    except OSError as err:
        local = Path(path).exists()
        raise MissingDataError(
            f"could not load model {path!r}: {err}. "
            + (
                "It is a local path: check it holds config.json and weights."
                if local
                else "Offline (HF_HUB_OFFLINE=1) only local copies work: download it where you "
                "have network access and pass model.path=<local directory>."
            )
        ) from None
    return model, tokenizer


MODELS.register("hf", ModelSpec(load_hf, "any causal LM: model.path=<hub id or local directory>"))
