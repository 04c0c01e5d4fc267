"""Every checkpoint save also writes the policy as safetensors; eval reads only that file."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import OmegaConf

from creditzoo.config_check import compose
from creditzoo.errors import ConfigError
from creditzoo.eval.run import load_policy, policy_location
from creditzoo.models.factory import build_model
from creditzoo.policy_file import POLICY_FILE, SavePolicyWeights, read_policy, write_policy


class _Policy(L.LightningModule):
    """The smallest module with a ``policy``: one SGD step per batch moves its weights."""

    def __init__(self) -> None:
        super().__init__()
        self.policy, _ = build_model("tiny")

    def training_step(self, batch: torch.Tensor, _: int) -> torch.Tensor:
        return self.policy(input_ids=batch).logits.float().pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.policy.parameters(), lr=1e-2)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.randint(5, 50, (4, 6)), batch_size=2)


def test_every_checkpoint_save_writes_the_policy(tmp_path: Path) -> None:
    module = _Policy()
    trainer = L.Trainer(
        max_steps=2,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[
            ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=1, save_top_k=-1),
            SavePolicyWeights(tmp_path),
        ],
    )
    trainer.fit(module)
    state, meta = read_policy(tmp_path / POLICY_FILE)
    assert meta == {"format": "creditzoo-policy-v1", "step": "2"}
    expected = module.policy.state_dict()
    assert set(state) == set(expected)  # tied embeddings are stored under both names
    for name, tensor in expected.items():
        torch.testing.assert_close(state[name], tensor, rtol=0, atol=0, msg=name)
    trainer.save_checkpoint(tmp_path / "last.ckpt")  # the final save of `fit` also writes it
    assert read_policy(tmp_path / POLICY_FILE)[1]["step"] == "2"


def test_eval_loads_a_run_from_its_policy_file(tmp_path: Path) -> None:
    model, _ = build_model("tiny")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    run = tmp_path / "run"
    write_policy(model.state_dict(), run / "checkpoints" / POLICY_FILE, step=7)
    (run / "config.yaml").write_text(OmegaConf.to_yaml({"model": {"name": "tiny", "path": None}}))
    (run / "checkpoints" / "last.ckpt").write_bytes(b"never opened")

    loaded, _, source = load_policy(compose("eval", [f"ckpt={run}"]))
    for (name, got), want in zip(
        loaded.state_dict().items(), model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(got, want, rtol=0, atol=0, msg=name)
    assert source["checkpoint"] == str(run / "checkpoints" / POLICY_FILE)
    assert source["step"] == 7 and len(source["checkpoint_sha256"]) == 64
    assert source["model"] == {"name": "tiny", "path": None}


def test_eval_refuses_a_pickled_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not open Lightning checkpoints"):
        policy_location(tmp_path / "checkpoints" / "last.ckpt")
