"""The plugin's own tests: run after ``pip install -e .`` so the entry point is registered."""

from __future__ import annotations

import math

import pytest
import torch

from creditzoo import RolloutBatch, build_algorithm, get_algorithm, list_algorithms
from creditzoo.testing import check_algorithm


def test_found_through_the_entry_point() -> None:
    """Fails if the package is importable but not installed (no entry point → no registration)."""
    assert "clipped_grpo" in list_algorithms()
    assert get_algorithm("clipped_grpo").__module__ == "creditzoo_plugin_example.clipped_grpo"


def test_contract() -> None:
    check_algorithm("clipped_grpo")


def _batch() -> RolloutBatch:
    # Group 0: one success in four; group 1: all equal (no signal); last column is padding.
    mask = torch.tensor([[True, True, False]] * 4 + [[True, False, False]] * 2)
    return RolloutBatch(
        rewards=torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0]),
        group_ids=torch.tensor([0, 0, 0, 0, 1, 1]),
        response_mask=mask,
        logprobs=torch.zeros(6, 3),
    )


def test_hand_computed() -> None:
    # Group 0: mean 1/4, centred (3/4, −1/4 ×3), unbiased var (9/16 + 3/16)/3 = 1/4, std 1/2
    # → A = (1.5, −0.5, −0.5, −0.5) (eps=1e-6 aside); clipping at 1 only touches the success.
    # Group 1 has no signal → 0.
    credit = build_algorithm("clipped_grpo", max_abs=1.0).compute(_batch())
    row = torch.tensor([1.0, -0.5, -0.5, -0.5, 0.0, 0.0])
    expected = row[:, None] * _batch().response_mask.float()
    torch.testing.assert_close(credit.advantages, expected)
    assert credit.metrics["clip_frac"] == pytest.approx(1 / 6)


def test_large_bound_is_grpo() -> None:
    batch = _batch()
    clipped = build_algorithm("clipped_grpo", max_abs=math.inf).compute(batch).advantages
    torch.testing.assert_close(clipped, build_algorithm("grpo").compute(batch).advantages)


def test_bad_bound_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="max_abs"):
        build_algorithm("clipped_grpo", max_abs=0.0)
