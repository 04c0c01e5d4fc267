"""Model helpers shared by the loop, the reference model and the teacher."""

from __future__ import annotations

import copy

import torch


def frozen_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A detached copy in eval mode that never receives gradients."""
    clone = copy.deepcopy(model).eval()
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone


def initial_policy(policy: torch.nn.Module) -> torch.nn.Module:
    """A frozen view of the policy as it starts: the base weights under LoRA, else a copy."""
    from creditzoo.models.lora import AdaptersDisabled, is_lora

    return AdaptersDisabled(policy) if is_lora(policy) else frozen_copy(policy)
