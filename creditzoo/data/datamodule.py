"""Training prompts for Lightning: one item per optimizer step, whole groups per rank."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import lightning as L
from torch.utils.data import DataLoader, IterableDataset

from creditzoo.data.problem import Problem
from creditzoo.tasks.base import TrainStream

StepBatch = tuple[int, list[Problem]]


class StepPrompts(IterableDataset):
    """Yields ``(step, problems)`` from the current step on.

    The global batch of a step is a pure function of the step, and each rank takes a contiguous
    slice of whole problems (a problem's G samples are drawn on one rank), so a resumed run and a
    run on more ranks see the same prompts as one uninterrupted process.
    """

    def __init__(
        self,
        source: TrainStream,
        prompts_per_step: int,
        max_steps: int,
        start_step: Callable[[], int],
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if prompts_per_step % world_size:
            raise ValueError(
                f"prompts_per_step={prompts_per_step} must be divisible by the number of "
                f"processes ({world_size}) so that every rank gets whole groups"
            )
        self.source = source
        self.global_n = prompts_per_step
        self.local_n = prompts_per_step // world_size
        self.max_steps = max_steps
        self.start_step = start_step
        self.rank = rank

    def __iter__(self) -> Iterator[StepBatch]:
        lo = self.rank * self.local_n
        for step in range(self.start_step(), self.max_steps):
            yield step, self.source.train_batch(step, self.global_n)[lo : lo + self.local_n]


def _keep(item: StepBatch) -> StepBatch:
    return item


class PromptDataModule(L.LightningDataModule):
    def __init__(self, source: TrainStream, prompts_per_step: int, max_steps: int) -> None:
        super().__init__()
        self.source = source
        self.prompts_per_step = prompts_per_step
        self.max_steps = max_steps

    def transfer_batch_to_device(self, batch: StepBatch, device, dataloader_idx: int) -> StepBatch:
        return batch  # problems are text; tensors are built on the right device later

    def train_dataloader(self) -> DataLoader:
        trainer = self.trainer
        if self.prompts_per_step < trainer.world_size:
            raise ValueError(
                f"prompts_per_step={self.prompts_per_step} is smaller than the number of "
                f"processes ({trainer.world_size}); raise prompts_per_step or use fewer processes"
            )
        dataset = StepPrompts(
            self.source,
            self.prompts_per_step,
            self.max_steps,
            start_step=lambda: trainer.global_step,
            rank=trainer.global_rank,
            world_size=trainer.world_size,
        )
        return DataLoader(dataset, batch_size=None, collate_fn=_keep, num_workers=0)
