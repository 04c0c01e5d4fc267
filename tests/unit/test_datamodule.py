"""Training prompts: whole groups per rank, a pure function of the step, clear errors."""

from types import SimpleNamespace

import pytest

from creditzoo.data.arith import ArithSpec
from creditzoo.data.datamodule import PromptDataModule, StepPrompts
from creditzoo.tasks.builtin import ArithStream


def test_ranks_split_the_global_batch_into_whole_problems() -> None:
    source = ArithStream(0, ArithSpec())
    one = list(StepPrompts(source, 4, 3, start_step=lambda: 0))
    ranks = [
        list(StepPrompts(source, 4, 3, start_step=lambda: 0, rank=r, world_size=2)) for r in (0, 1)
    ]
    for step in range(3):
        assert one[step][0] == step
        assert ranks[0][step][1] + ranks[1][step][1] == one[step][1]


def test_resume_starts_at_the_current_step() -> None:
    source = ArithStream(0, ArithSpec())
    full = list(StepPrompts(source, 2, 5, start_step=lambda: 0))
    resumed = list(StepPrompts(source, 2, 5, start_step=lambda: 3))
    assert resumed == full[3:]


def test_more_processes_than_prompts_is_a_clear_error() -> None:
    dm = PromptDataModule(ArithStream(0, ArithSpec()), prompts_per_step=2, max_steps=1)
    dm.trainer = SimpleNamespace(world_size=4, global_step=0, global_rank=0)
    with pytest.raises(ValueError, match="smaller than the number of processes"):
        dm.train_dataloader()
    with pytest.raises(ValueError, match="divisible by the number of processes"):
        StepPrompts(ArithStream(0, ArithSpec()), 3, 1, start_step=lambda: 0, world_size=2)
