"""RLRT on hand-computed tensors: the one-sided boost on correct rows, reductions to grpo, signs."""

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.testing import make_batch

# One group, rewards [1, 0]: mean 0.5, unbiased std sqrt(0.5) = 0.707107 → A = ±0.707107.
A = 0.7071068


def _batch(step: int = 0) -> RolloutBatch:
    # logprobs = 0, so Δ = teacher_logprobs; row 1's third column is padding.
    return RolloutBatch(
        rewards=torch.tensor([1.0, 0.0]),
        group_ids=torch.tensor([0, 0]),
        response_mask=torch.tensor([[True, True, True], [True, True, False]]),
        logprobs=torch.zeros(2, 3),
        teacher_logprobs=torch.tensor([[0.5, -0.5, -0.1], [0.5, -0.5, 9.0]]),
        step=step,
    )


def test_hand_computed() -> None:
    # λ = 0.5, ε_w = 0.2. Row 0 (A > 0): exp(−Δ) = 0.606531 → 1 (teacher agrees: no boost),
    # 1.648721 → 1.2 (clipped), 1.105171 (inside) → multipliers 0.5 + 0.5·w = 1, 1.1, 1.052585
    # → Â = 0.707107, 0.777817, 0.744290. Row 1 (A < 0): plain GRPO, −0.707107 ×2; padding 0.
    credit = build_algorithm("rlrt").compute(_batch())
    expected = torch.tensor([[A, 0.777817, 0.744290], [-A, -A, 0.0]])
    torch.testing.assert_close(credit.advantages, expected, atol=1e-5, rtol=0)
    m = credit.metrics
    assert m["lambda"] == pytest.approx(0.5)
    assert m["boost_frac"] == pytest.approx(2 / 3)  # 2 of row 0's 3 tokens have Δ < 0
    assert m["clip_frac_w"] == pytest.approx(1 / 3)  # one reached 1 + ε_w
    assert m["delta_abs_mean"] == pytest.approx((0.5 + 0.5 + 0.1 + 0.5 + 0.5) / 5, abs=1e-6)
    # |Â| mean = (0.707107 + 0.777817 + 0.744290 + 0.707107·2)/5 = 0.728685.
    assert m["adv_abs_mean"] == pytest.approx(0.728685, abs=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("params", [{"lambda_init": 0.0}, {"lambda_decay_steps": 2}])
def test_no_lambda_is_grpo_exactly(seed: int, params: dict) -> None:
    batch = make_batch(seed=seed)  # step 3 ≥ decay 2 → λ = 0
    got = build_algorithm("rlrt", **params).compute(batch).advantages
    assert torch.equal(got, build_algorithm("grpo").compute(batch).advantages)


def test_epsilon_zero_is_grpo() -> None:
    batch = make_batch(seed=0)
    got = build_algorithm("rlrt", epsilon_w=0.0).compute(batch).advantages
    torch.testing.assert_close(got, build_algorithm("grpo").compute(batch).advantages)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_only_correct_rows_are_boosted_never_flipped(seed: int) -> None:
    batch = make_batch(num_groups=4, group_size=6, seed=seed)
    batch = batch.replace(teacher_logprobs=batch.teacher_logprobs * 5.0)
    got = build_algorithm("rlrt", lambda_init=1.0, epsilon_w=0.9).compute(batch).advantages
    grpo = build_algorithm("grpo").compute(batch).advantages
    m = batch.response_mask
    pos = m & (grpo > 0)
    assert torch.equal(got[m & ~pos], grpo[m & ~pos])  # wrong rows and A = 0: plain GRPO
    assert torch.all(got[pos] >= grpo[pos]) and torch.all(got[pos] <= 1.9 * grpo[pos] + 1e-6)
    assert torch.any(got[pos] > grpo[pos])


def test_invalid_parameters_and_attributes() -> None:
    with pytest.raises(ValueError, match="lambda_init"):
        build_algorithm("rlrt", lambda_init=1.5)
    with pytest.raises(ValueError, match="epsilon_w"):
        build_algorithm("rlrt", epsilon_w=-0.1)
    algo = build_algorithm("rlrt")
    assert algo.requires == frozenset({"teacher_logprobs"})
    assert algo.components == frozenset()
    assert algo.teacher_spec() == TeacherSpec(context="answer", weights="snapshot")
