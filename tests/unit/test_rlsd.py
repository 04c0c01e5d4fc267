"""RLSD advantages on hand-computed tensors, its λ schedule, reductions and the sign property."""

import dataclasses

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.algorithms.ops import linear_decay
from creditzoo.testing import make_batch

# One group, rewards [1, 0]: mean 0.5, unbiased std sqrt(0.5) = 0.707107 → A = ±0.707107.
A = 0.7071068


def _batch(step: int = 0) -> RolloutBatch:
    # Row 1 has 2 real tokens; its third column is padding (teacher value there must not matter).
    delta = torch.tensor([[0.5, -0.5, 0.1], [0.5, -0.5, 9.0]])
    return RolloutBatch(
        rewards=torch.tensor([1.0, 0.0]),
        group_ids=torch.tensor([0, 0]),
        response_mask=torch.tensor([[True, True, True], [True, True, False]]),
        logprobs=torch.zeros(2, 3),
        teacher_logprobs=delta,  # logprobs = 0, so Δ = teacher_logprobs
        step=step,
    )


def test_hand_computed_both_bounds_and_inside() -> None:
    # λ = 0.5 at step 0, ε_w = 0.2 → w ∈ [0.8, 1.2], multiplier = 0.5 + 0.5·w.
    # Row 0 (A>0): exp(+0.5)=1.649→1.2, exp(−0.5)=0.607→0.8, exp(0.1)=1.105171 (inside)
    #   → multipliers 1.1, 0.9, 1.052585 → Â = 0.777817, 0.636396, 0.744290.
    # Row 1 (A<0): exponent flips: exp(−0.5)→0.8, exp(+0.5)→1.2 → multipliers 0.9, 1.1
    #   → Â = −0.636396, −0.777817; padding → 0.
    credit = build_algorithm("rlsd").compute(_batch())
    expected = torch.tensor([[0.777817, 0.636396, 0.744290], [-0.636396, -0.777817, 0.0]])
    torch.testing.assert_close(credit.advantages, expected, atol=1e-5, rtol=0)
    m = credit.metrics
    assert m["lambda"] == pytest.approx(0.5)
    # 5 real tokens in rows with A≠0; 4 hit a bound (all but Δ=0.1).
    assert m["clip_frac_w"] == pytest.approx(0.8)
    # |Δ| mean = (0.5+0.5+0.1+0.5+0.5)/5 = 0.42; KL(S‖T) k1 = mean(−Δ) = −0.1/5 = −0.02.
    assert m["delta_abs_mean"] == pytest.approx(0.42, abs=1e-6)
    assert m["teacher_student_kl"] == pytest.approx(-0.02, abs=1e-6)
    # |Â| mean = (0.777817+0.636396+0.744290+0.636396+0.777817)/5 = 0.714543.
    assert m["adv_abs_mean"] == pytest.approx(0.714543, abs=1e-5)


def test_lambda_schedule() -> None:
    # λ0 = 0.5, D = 50: step 0 → 0.5, step 25 → 0.5·(1 − 0.5) = 0.25, step ≥ 50 → 0.
    assert linear_decay(0.5, 0, 50) == 0.5
    assert linear_decay(0.5, 25, 50) == pytest.approx(0.25)
    assert linear_decay(0.5, 50, 50) == 0.0
    assert linear_decay(0.5, 80, 50) == 0.0
    assert linear_decay(0.5, 1000, 0) == 0.5  # D ≤ 0: constant
    algo = build_algorithm("rlsd")
    credit = algo.compute(_batch(step=25))
    assert credit.metrics["lambda"] == pytest.approx(0.25)
    # Row 0 token 0: w = 1.2 → A·(0.75 + 0.25·1.2) = 0.707107·1.05 = 0.742462.
    assert float(credit.advantages[0, 0]) == pytest.approx(0.742462, abs=1e-5)
    # At step ≥ D the teacher has no effect: Â = A on every real token.
    late = algo.compute(_batch(step=50)).advantages
    torch.testing.assert_close(late, torch.tensor([[A, A, A], [-A, -A, 0.0]]))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scale", ["group", "none"])
def test_lambda_zero_is_grpo_exactly(seed: int, scale: str) -> None:
    batch = make_batch(seed=seed)
    got = build_algorithm("rlsd", lambda_init=0.0, scale_rewards=scale).compute(batch).advantages
    want = build_algorithm("grpo", scale_rewards=scale).compute(batch).advantages
    assert torch.equal(got, want)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sign_follows_outcome_advantage(seed: int) -> None:
    batch = make_batch(num_groups=4, group_size=6, seed=seed)
    batch = batch.replace(teacher_logprobs=batch.teacher_logprobs * 5.0)  # large |Δ|
    got = build_algorithm("rlsd", lambda_init=1.0, epsilon_w=0.9).compute(batch).advantages
    grpo = build_algorithm("grpo").compute(batch).advantages
    m = batch.response_mask
    assert torch.equal(torch.sign(got[m]), torch.sign(grpo[m]))


def test_invalid_parameters_raise() -> None:
    with pytest.raises(ValueError, match="lambda_init"):
        build_algorithm("rlsd", lambda_init=1.5)
    with pytest.raises(ValueError, match="epsilon_w"):
        build_algorithm("rlsd", epsilon_w=1.0)


def test_attributes() -> None:
    algo = build_algorithm("rlsd")
    assert algo.requires == frozenset({"teacher_logprobs"})
    assert algo.components == frozenset()
    assert algo.teacher_spec() == TeacherSpec(context="answer", weights="snapshot")


@pytest.mark.parametrize("name", ["rlsd", "cepo"])
def test_lambda_constant_variant_keeps_the_teacher_on(name: str) -> None:
    """The sweep's rlsd-const / cepo-const set lambda_decay_steps=0: λ stays λ0 at any step,
    where the default schedule has reached 0 (rlsd by step 50, cepo by step 25)."""
    batch = dataclasses.replace(make_batch(seed=1), step=140)
    assert build_algorithm(name).compute(batch).metrics["lambda"] == 0.0
    assert build_algorithm(name, lambda_decay_steps=0).compute(batch).metrics["lambda"] == 0.5
    assert build_algorithm(name, lambda_decay_steps=-1).compute(batch).metrics["lambda"] == 0.5
