"""The policy's weights as a safetensors file beside each Lightning checkpoint.

A Lightning checkpoint is a pickle: loading one runs whatever code its author put in it, so
`creditzoo eval` never opens one. Every time a run saves a checkpoint, :class:`SavePolicyWeights`
also writes ``<run>/checkpoints/policy.safetensors`` (tensors only, nothing executable); with the
run's ``config.yaml`` (the model to build) that is all evaluation reads. Resuming one's own run
still uses the full checkpoint (optimizer, RNG, teacher, data position).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning as L
import torch

from creditzoo.distributed import full_state_dict
from creditzoo.errors import MissingDataError

POLICY_FILE = "policy.safetensors"
FORMAT = "creditzoo-policy-v1"


class SavePolicyWeights(L.Callback):
    """Writes the policy's state dict to ``directory/policy.safetensors`` at every checkpoint.

    ``on_save_checkpoint`` runs on every rank whenever Lightning saves (periodic, last, on
    SIGTERM, the final save), so a sharded policy is gathered by all ranks and written by one.
    The file is replaced atomically: it always matches a saved checkpoint, by default the newest.
    """

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / POLICY_FILE

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        state = full_state_dict(pl_module.policy)  # a collective when sharded: every rank
        if trainer.is_global_zero:
            write_policy(state, self.path, step=trainer.global_step)


def write_policy(state: dict[str, torch.Tensor], path: Path, *, step: int) -> None:
    """Save ``state`` as safetensors (tied weights stored once each, by copy), atomically."""
    from safetensors.torch import save_file

    # safetensors refuses tensors that share memory (tied embeddings): store plain copies.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        save_file(tensors, str(tmp), metadata={"format": FORMAT, "step": str(step)})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_policy(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of a policy file (no code is run to read it)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"no policy weights at {path}")
    with safe_open(str(path), framework="pt", device="cpu") as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}, dict(fh.metadata() or {})  # noqa: SIM118


__all__ = ["POLICY_FILE", "SavePolicyWeights", "read_policy", "write_policy"]
