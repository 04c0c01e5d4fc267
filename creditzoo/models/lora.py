"""LoRA adapters through peft (``model.lora.r=…``), and the base model seen through them.

"LoRA: Low-Rank Adaptation of Large Language Models" (Hu et al., arXiv:2106.09685):
W x + (α / r) · B A x with A ∈ R^{r×d_in}, B ∈ R^{d_out×r}, B = 0 at start. Only A and B train.
A fixed teacher or a KL reference needs the *initial* policy, which under LoRA is the base model
itself: :class:`AdaptersDisabled` runs the policy with its adapters switched off instead of
keeping a second copy of the weights (as OPSD's implementation does).
"""

from __future__ import annotations

from typing import Any

import torch


def apply_lora(
    model: torch.nn.Module,
    *,
    r: int,
    alpha: float = 16.0,
    dropout: float = 0.0,
    target_modules: str | list[str] = "all-linear",
) -> torch.nn.Module:
    """Wrap ``model`` in a peft ``PeftModel`` whose only trainable weights are the adapters."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as err:  # pragma: no cover - peft is a dependency
        raise ImportError("model.lora.r > 0 needs peft: pip install peft") from err
    if r < 1:
        raise ValueError(f"model.lora.r must be >= 1 to use LoRA (0 turns it off), got {r}")
    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def is_lora(model: torch.nn.Module) -> bool:
    try:
        from peft import PeftModel
    except ImportError:  # pragma: no cover
        return False
    return isinstance(model, PeftModel)


class AdaptersDisabled(torch.nn.Module):
    """The base model of a LoRA policy: every forward runs with the adapters switched off.

    It shares the policy's weights (no copy); nothing in it is trainable from here because it is
    only called under ``torch.no_grad`` by the teacher and reference passes.
    """

    def __init__(self, policy: torch.nn.Module) -> None:
        super().__init__()
        # Not registered as a submodule: its parameters belong to the policy, not to this view.
        object.__setattr__(self, "policy", policy)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with self.policy.disable_adapter():
            return self.policy(*args, **kwargs)

    def parameters(self, recurse: bool = True):  # device lookups: next(model.parameters())
        return self.policy.parameters(recurse)

    def train(self, mode: bool = True) -> AdaptersDisabled:
        self.policy.train(mode)
        return self

    @property
    def training(self) -> bool:  # type: ignore[override]
        return getattr(self, "policy", None) is not None and self.policy.training

    @training.setter
    def training(self, value: bool) -> None:
        pass  # the policy's mode is the view's mode


def merged_for_inference(model: torch.nn.Module) -> torch.nn.Module:
    """A plain transformers model with the adapters folded into the weights."""
    return model.merge_and_unload() if is_lora(model) else model


__all__ = ["AdaptersDisabled", "apply_lora", "is_lora", "merged_for_inference"]
