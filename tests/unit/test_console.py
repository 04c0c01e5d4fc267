"""What the terminal shows: each library line once, a bar counting steps, a results table."""

from __future__ import annotations

import logging

import lightning as L
import torch

from creditzoo.console import quiet_libraries, results_table
from creditzoo.progress import StepProgressBar


class _Toy(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch: torch.Tensor, _: int) -> torch.Tensor:
        self.log("acc", 0.25, prog_bar=True)
        return self.layer(batch).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.randn(16, 2), batch_size=2)


def test_bar_counts_steps_not_epochs(capsys) -> None:
    trainer = L.Trainer(
        max_steps=3,
        max_epochs=-1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=[StepProgressBar()],
    )
    trainer.fit(_Toy())
    out = capsys.readouterr().out.replace("\r", "\n")
    assert "step 3/3 |" in out and "acc=0.250" in out
    assert "Epoch" not in out and "v_num" not in out


def test_library_lines_once_and_no_adverts(caplog) -> None:
    quiet_libraries()
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        assert logging.getLogger(name).handlers == []  # printed by the root's handlers only
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    with caplog.at_level(logging.INFO):
        rank_zero.info("💡 Tip: For seamless cloud logging, try installing litlogger")
        rank_zero.info("GPU available: False, used: False")
    assert [r.getMessage() for r in caplog.records] == ["GPU available: False, used: False"]


def test_results_table() -> None:
    results = {
        "initial": {"id": {"acc": 0.25, "acc_se": 0.01}, "ood": {"acc": 0.0, "acc_se": 0.0}},
        "final": {"id": {"acc": 0.375, "acc_se": 0.02}, "ood": {"acc": 0.0125, "acc_se": 0.005}},
        "eval_settings": {"k": 4},
    }
    assert results_table(results).splitlines() == [
        "split  before (avg@4)  after (avg@4)  change",
        "id     0.250 ± 0.010   0.375 ± 0.020  +0.125",
        "ood    0.000 ± 0.000   0.013 ± 0.005  +0.013",
    ]
