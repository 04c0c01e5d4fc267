"""CEPO advantages on hand-computed tensors, reductions to GRPO/RLSD and the sign property."""

import math

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.testing import make_batch

# One group, rewards [1, 0]: A = ±0.5 / sqrt(0.5) = ±0.707107.
A = 0.7071068


def _batch() -> RolloutBatch:
    # Row 0 has a wrong context; row 1 does not, and its slot holds −inf (must not be read).
    neg = torch.tensor([[[-1.0, -0.2, -0.4]], [[-math.inf] * 3]])
    return RolloutBatch(
        rewards=torch.tensor([1.0, 0.0]),
        group_ids=torch.tensor([0, 0]),
        response_mask=torch.ones(2, 3, dtype=torch.bool),
        logprobs=torch.tensor([[-0.5, -0.5, -0.5], [-1.0, -1.0, -1.0]]),
        teacher_logprobs=torch.tensor([[-0.2, -1.0, -0.5], [-0.7, -0.7, -0.7]]),
        neg_teacher_logprobs=neg,
        neg_mask=torch.tensor([[True], [False]]),
    )


def test_hand_computed() -> None:
    # Row 0: Δ = teacher − neg = [0.8, −0.8, −0.1]; A>0 → w = clip(exp(Δ), 0.8, 1.2)
    #   = [1.2 (2.226 clipped), 0.8 (0.449 clipped), 0.904837]; λ = 0.5 → multiplier 0.5 + 0.5w
    #   = [1.1, 0.9, 0.952419] → Â = 0.707107·… = [0.777817, 0.636396, 0.673462].
    # Row 1: no wrong context → Δ = 0, w = 1 → Â = A = −0.707107 (GRPO).
    credit = build_algorithm("cepo").compute(_batch())
    expected = torch.tensor([[0.777817, 0.636396, 0.673462], [-A, -A, -A]])
    torch.testing.assert_close(credit.advantages, expected, atol=1e-5, rtol=0)
    m = credit.metrics
    assert m["neg_available"] == pytest.approx(0.5)
    assert m["lambda"] == pytest.approx(0.5)
    # Bound hits: 2 of the 6 real tokens (row 1's w = 1 is inside).
    assert m["clip_frac_w"] == pytest.approx(2 / 6)
    # |Δ| mean over real tokens = (0.8 + 0.8 + 0.1 + 0 + 0 + 0)/6 = 0.283333.
    assert m["delta_abs_mean"] == pytest.approx(0.283333, abs=1e-5)
    # KL(S‖T) k1 = mean(logprobs − teacher) = (−0.3 + 0.5 + 0 − 0.3·3)/6 = −0.116667.
    assert m["teacher_student_kl"] == pytest.approx(-0.116667, abs=1e-5)


def test_lambda_decays_over_25_steps() -> None:
    # λ = 0.5·(1 − 10/25) = 0.3 at step 10; 0 at step 25 → GRPO.
    algo = build_algorithm("cepo")
    assert algo.compute(_batch().replace(step=10)).metrics["lambda"] == pytest.approx(0.3)
    late = algo.compute(_batch().replace(step=25)).advantages
    torch.testing.assert_close(late, torch.tensor([[A, A, A], [-A, -A, -A]]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_wrong_context_is_grpo_exactly(seed: int) -> None:
    batch = make_batch(seed=seed)
    batch = batch.replace(neg_mask=torch.zeros_like(batch.neg_mask))
    got = build_algorithm("cepo").compute(batch).advantages
    assert torch.equal(got, build_algorithm("grpo").compute(batch).advantages)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lambda_zero_is_grpo_exactly(seed: int) -> None:
    batch = make_batch(seed=seed)
    got = build_algorithm("cepo", lambda_init=0.0).compute(batch).advantages
    assert torch.equal(got, build_algorithm("grpo").compute(batch).advantages)


def test_student_as_wrong_context_is_rlsd() -> None:
    # neg_teacher_logprobs[:, 0] = logprobs makes Δ identical to RLSD's.
    batch = make_batch(seed=4)
    neg = batch.neg_teacher_logprobs.clone()
    neg[:, 0] = batch.logprobs
    batch = batch.replace(neg_teacher_logprobs=neg)
    got = build_algorithm("cepo", lambda_decay_steps=50).compute(batch).advantages
    torch.testing.assert_close(got, build_algorithm("rlsd").compute(batch).advantages)


def test_only_slot_zero_is_read() -> None:
    batch = make_batch(seed=5)
    other = batch.neg_teacher_logprobs.clone()
    other[:, 1] = -123.0
    algo = build_algorithm("cepo")
    a = algo.compute(batch).advantages
    assert torch.equal(a, algo.compute(batch.replace(neg_teacher_logprobs=other)).advantages)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sign_follows_outcome_advantage(seed: int) -> None:
    batch = make_batch(num_groups=4, group_size=6, seed=seed)
    batch = batch.replace(teacher_logprobs=batch.teacher_logprobs * 5.0)
    got = build_algorithm("cepo", lambda_init=1.0, epsilon_w=0.9).compute(batch).advantages
    grpo = build_algorithm("grpo").compute(batch).advantages
    m = batch.response_mask
    assert torch.equal(torch.sign(got[m]), torch.sign(grpo[m]))


def test_attributes() -> None:
    algo = build_algorithm("cepo")
    assert algo.requires == frozenset({"teacher_logprobs", "neg_teacher_logprobs", "neg_mask"})
    assert algo.teacher_spec() == TeacherSpec(
        context="answer", weights="live", negative_context="wrong_answer", negatives=1
    )
