"""The model registry: ``model=<name>`` → (policy, tokenizer).

Each model module registers a :class:`ModelSpec` (``creditzoo/models/__init__.py`` imports them);
this module never imports them. A spec can say, before anything loads, that an optional install
is missing, so ``creditzoo fit model=…`` fails at start-up with the install command rather than
after minutes of set-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from creditzoo.errors import MissingDependencyError
from creditzoo.registry import Registry


@dataclass(frozen=True)
class ModelSpec:
    """How to load one named model.

    Attributes:
        load: ``load(path, dtype) -> (model, tokenizer)``; ``path`` is ``model.path`` (None for
            the default weights), ``dtype`` a torch dtype name.
        description: one line for ``creditzoo list``.
        missing: ``missing(path)`` returns what to install when the model cannot load here, or
            None; it must be cheap (no import of the model's dependencies).
    """

    load: Callable[[str | None, str], tuple[Any, Any]]
    description: str
    missing: Callable[[str | None], str | None] = lambda path: None


MODELS: Registry[ModelSpec] = Registry("model", config_key="model")


def check_model_available(name: str, path: str | None = None) -> None:
    """Raise ``MissingDependencyError`` (with the install command) if ``name`` cannot load."""
    problem = MODELS.get(name).missing(path)
    if problem:
        raise MissingDependencyError(problem)


def build_model(name: str, path: str | None = None, dtype: str = "float32", **_: Any):
    """Load the policy and its tokenizer; the tokenizer pads on the left for generation.

    Other ``model.*`` keys (``lora``) are applied by the caller."""
    check_model_available(name, path)
    model, tokenizer = MODELS.get(name).load(path, dtype)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


__all__ = ["MODELS", "ModelSpec", "build_model", "check_model_available"]
