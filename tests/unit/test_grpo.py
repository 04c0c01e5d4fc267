"""GRPO advantages on hand-computed tensors."""

import pytest
import torch

from creditzoo import RolloutBatch, build_algorithm


def _batch(rewards, group_ids, lengths, max_len=3) -> RolloutBatch:
    n = len(rewards)
    mask = torch.arange(max_len)[None, :] < torch.tensor(lengths)[:, None]
    return RolloutBatch(
        rewards=torch.tensor(rewards, dtype=torch.float32),
        group_ids=torch.tensor(group_ids),
        response_mask=mask,
        logprobs=torch.zeros(n, max_len),
    )


def test_group_scaling_hand_computed() -> None:
    # One group, rewards [1, 0, 0, 1]: mean 0.5, unbiased std = sqrt(4·0.25/3) = 0.57735;
    # A = ±0.5 / 0.57735 = ±0.866025 (eps 1e-6 is negligible at this precision).
    batch = _batch([1, 0, 0, 1], [0, 0, 0, 0], [3, 2, 1, 3])
    adv = build_algorithm("grpo").compute(batch).advantages
    expected_row = torch.tensor([0.866025, -0.866025, -0.866025, 0.866025])
    torch.testing.assert_close(adv[:, 0], expected_row, atol=1e-5, rtol=0)
    # Broadcast over real tokens only: row 1 has 2 tokens, row 2 has 1.
    torch.testing.assert_close(adv[1], torch.tensor([-0.866025, -0.866025, 0.0]), atol=1e-5, rtol=0)
    torch.testing.assert_close(adv[2], torch.tensor([-0.866025, 0.0, 0.0]), atol=1e-5, rtol=0)


def test_groups_are_independent() -> None:
    # Group 0: [1, 0] → mean 0.5, std sqrt(0.5) = 0.70711 → ±0.70711.
    # Group 1: [0, 0, 1] → mean 1/3, std sqrt((1/9+1/9+4/9)/2) = 0.57735
    #          → A = -0.57735, -0.57735, 1.1547.
    batch = _batch([1, 0, 0, 0, 1], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1], max_len=1)
    adv = build_algorithm("grpo").compute(batch).advantages[:, 0]
    torch.testing.assert_close(
        adv, torch.tensor([0.707107, -0.707107, -0.577350, -0.577350, 1.154701]), atol=1e-5, rtol=0
    )


def test_dr_grpo_does_not_divide() -> None:
    # scale_rewards=none: A = R − mean = [0.5, -0.5, -0.5, 0.5].
    batch = _batch([1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1], max_len=1)
    adv = build_algorithm("grpo", scale_rewards="none").compute(batch).advantages[:, 0]
    torch.testing.assert_close(adv, torch.tensor([0.5, -0.5, -0.5, 0.5]))


def test_batch_scaling_uses_whole_batch_std() -> None:
    # Groups [1, 0] and [1, 1]: centred [0.5, -0.5, 0, 0]; batch std of [1,0,1,1] (unbiased)
    # = sqrt((3·0.0625 + 0.5625)/3) = 0.5 → A = [1, -1, 0, 0].
    batch = _batch([1, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1], max_len=1)
    adv = build_algorithm("grpo", scale_rewards="batch").compute(batch).advantages[:, 0]
    torch.testing.assert_close(adv, torch.tensor([1.0, -1.0, 0.0, 0.0]), atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_equal_rewards_and_singletons_give_zero(scale: str) -> None:
    batch = _batch([1, 1, 0, 0, 1], [0, 0, 1, 1, 2], [2, 2, 2, 2, 2], max_len=2)
    adv = build_algorithm("grpo", scale_rewards=scale).compute(batch).advantages
    assert torch.equal(adv, torch.zeros_like(adv))
