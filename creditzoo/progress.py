"""A training progress bar that counts optimizer steps, with reward and accuracy.

Lightning's bars count batches within an epoch; a run here is ``max_steps`` steps in one open
epoch, so they read "Epoch 0/-2". This bar reads ``step 12/300 … acc=0.512, reward=0.512`` and
starts at the resumed step after a restart.
"""

from __future__ import annotations

import sys
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm


class StepProgressBar(TQDMProgressBar):
    """Steps done of ``max_steps``; the postfix shows the metrics logged with ``prog_bar=True``."""

    BAR = "{desc} {n_fmt}/{total_fmt} |{bar:24}| {elapsed}<{remaining}{postfix}"

    def __init__(self, refresh_rate: int = 1) -> None:
        super().__init__(refresh_rate=refresh_rate, leave=False)

    def init_train_tqdm(self) -> Tqdm:
        max_steps = self.trainer.max_steps
        return Tqdm(
            desc="step",
            total=max_steps if max_steps > 0 else None,
            position=2 * self.process_position,
            disable=self.is_disabled,
            leave=True,
            dynamic_ncols=True,
            file=sys.stdout,
            smoothing=0,
            bar_format=self.BAR,
        )

    def on_train_start(self, *_: Any) -> None:
        """The bar appears with the first step, after every other start-up line (the
        evaluation before training logs from ``on_train_start``)."""

    def on_train_epoch_start(self, trainer: L.Trainer, *_: Any) -> None:
        self._bar(trainer)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, i: int
    ) -> None:
        bar = self._bar(trainer)
        if bar.disable:
            return
        step = trainer.global_step
        if step % self.refresh_rate == 0 or step == bar.total:
            bar.n = step
            bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
            bar.refresh()
        if step == bar.total:
            bar.close()  # finished: what is logged next starts on a line of its own

    def on_train_end(self, *_: Any) -> None:
        if self._train_progress_bar is not None:
            self._train_progress_bar.close()

    def _bar(self, trainer: L.Trainer) -> Tqdm:
        """The bar, made on first use; a resumed run (which may skip the epoch start) starts
        it at the resumed step."""
        if self._train_progress_bar is None:
            bar = self.init_train_tqdm()
            bar.initial = bar.n = trainer.global_step
            bar.refresh()
            self.train_progress_bar = bar
        return self._train_progress_bar

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """The bar stays open across the (single, open-ended) epoch; ``on_train_end`` closes it."""

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        """The progress-bar metrics as short numbers, without Lightning's ``v_num``."""
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return {k: f"{v:.3f}" if isinstance(v, float) else v for k, v in metrics.items()}


__all__ = ["StepProgressBar"]
