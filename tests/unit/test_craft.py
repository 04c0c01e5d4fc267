"""CRAFT-style sibling credit on hand-computed tensors: reductions to grpo, the sign clamp."""

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.algorithms.ops import sibling_table
from creditzoo.testing import make_batch

# One group, rewards [1, 0, 0]: mean 1/3, unbiased std sqrt(((2/3)² + 2·(1/3)²)/2) = 0.577350
# → A = [1.154700, −0.577350, −0.577350]; A_0 − A_2 = sqrt(3) = 1.732051.
A0, A1 = 1.1547005, -0.5773503


def _batch() -> RolloutBatch:
    # logprobs = 0, so Δ = teacher_logprobs. Rows 1 and 2 have 2 real tokens (column 2 padding).
    # Mean evidence e = [(1 + 0 + 0.5)/3, (−0.5 + 0.5)/2, (−1 + 0)/2] = [0.5, 0.0, −0.5].
    return RolloutBatch(
        rewards=torch.tensor([1.0, 0.0, 0.0]),
        group_ids=torch.tensor([0, 0, 0]),
        response_mask=torch.tensor([[True, True, True], [True, True, False], [True, True, False]]),
        logprobs=torch.zeros(3, 3),
        teacher_logprobs=torch.tensor([[1.0, 0.0, 0.5], [-0.5, 0.5, 7.0], [-1.0, 0.0, 7.0]]),
    )


# Row 0: siblings 1, 2 have equal A → κ_0 = 0 → Â = A_0 on every token.
# Row 1: siblings 0, 2: ω_0 = σ(e_0 − e_2) = σ(1) = 0.731059;
#   κ_1 = ω_0·A_0 + (1 − ω_0)·A_2 − (A_0 + A_2)/2 = (0.731059 − 0.5)·1.732051 = 0.400206;
#   b_1 = (0.5 − 0.5)/2 = 0; c = 0.400206·tanh(∓0.5) = ∓0.184942.
# Row 2: siblings 0, 1: ω_0 = σ(0.5) = 0.622459; κ_2 = 0.122459·1.732051 = 0.212105;
#   b_2 = (0.5 + 0)/2 = 0.25; c = 0.212105·tanh(−1.25), ·tanh(−0.25) = −0.179925, −0.051949.
C1 = (-0.184942, 0.184942)
C2 = (-0.179925, -0.051949)


def test_hand_computed_default_eta() -> None:
    # η = 0.1: Â_1 = −0.577350 ∓ 0.018494 = −0.595844, −0.558856;
    #          Â_2 = −0.577350 − 0.017993, − 0.005195 = −0.595343, −0.582545.
    credit = build_algorithm("craft").compute(_batch())
    expected = torch.tensor(
        [
            [A0, A0, A0],
            [A1 + 0.1 * C1[0], A1 + 0.1 * C1[1], 0.0],
            [A1 + 0.1 * C2[0], A1 + 0.1 * C2[1], 0.0],
        ]
    )
    torch.testing.assert_close(credit.advantages, expected, atol=1e-5, rtol=0)
    m = credit.metrics
    assert m["kappa_abs_mean"] == pytest.approx((0.0 + 0.400206 + 0.212105) / 3, abs=1e-5)
    # |c| mean over 7 real tokens = (0.184942·2 + 0.179925 + 0.051949)/7 = 0.085965.
    assert m["credit_abs_mean"] == pytest.approx(0.085965, abs=1e-5)
    assert m["sign_clamp_frac"] == 0.0
    assert m["delta_abs_mean"] == pytest.approx((1 + 0 + 0.5 + 0.5 + 0.5 + 1 + 0) / 7, abs=1e-6)


def test_sign_clamp() -> None:
    # η = 10: row 1 token 1 = −0.577350 + 1.849420 = 1.272070 > 0 would flip the sign of a wrong
    # row's credit: clamped to 0 (1 of 7 real tokens); without the clamp it is kept.
    clamped = build_algorithm("craft", eta=10.0).compute(_batch())
    assert float(clamped.advantages[1, 1]) == 0.0
    assert clamped.metrics["sign_clamp_frac"] == pytest.approx(1 / 7)
    # Row 1 token 0 = −0.577350 − 1.849420 = −2.426770 (same sign, untouched).
    assert float(clamped.advantages[1, 0]) == pytest.approx(A1 + 10 * C1[0], abs=1e-4)
    free = build_algorithm("craft", eta=10.0, sign_preserve=False).compute(_batch())
    assert float(free.advantages[1, 1]) == pytest.approx(A1 + 10 * C1[1], abs=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_eta_zero_is_grpo_exactly(seed: int, scale: str) -> None:
    batch = make_batch(num_groups=4, group_size=5, seed=seed)
    got = build_algorithm("craft", eta=0.0, scale_rewards=scale).compute(batch).advantages
    want = build_algorithm("grpo", scale_rewards=scale).compute(batch).advantages
    assert torch.equal(got, want)


@pytest.mark.parametrize("seed", [0, 1])
def test_groups_of_two_are_grpo_exactly(seed: int) -> None:
    # One sibling: ω = 1, so κ = A_j − A_j = 0 whatever the teacher says.
    batch = make_batch(num_groups=5, group_size=2, seed=seed)
    got = build_algorithm("craft", eta=5.0, sign_preserve=False).compute(batch).advantages
    assert torch.equal(got, build_algorithm("grpo").compute(batch).advantages)


def test_equal_sibling_evidence_gives_no_credit() -> None:
    # Every row's Δ averages to 0.2: uniform weights, κ = 0 up to rounding.
    batch = make_batch(num_groups=3, group_size=4, seed=0)
    batch = batch.replace(teacher_logprobs=batch.logprobs + 0.2 * batch.response_mask)
    got = build_algorithm("craft", eta=1.0).compute(batch).advantages
    torch.testing.assert_close(got, build_algorithm("grpo").compute(batch).advantages)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sign_never_opposite_to_outcome_advantage(seed: int) -> None:
    batch = make_batch(num_groups=4, group_size=6, seed=seed)
    batch = batch.replace(teacher_logprobs=batch.teacher_logprobs * 5.0)
    got = build_algorithm("craft", eta=20.0).compute(batch).advantages
    grpo = build_algorithm("grpo").compute(batch).advantages
    m = batch.response_mask
    assert torch.all(got[m] * grpo[m] >= 0)
    assert torch.all(got[m][grpo[m] == 0] == 0)


def test_sibling_table() -> None:
    # Groups: 1 → rows 0, 2, 3; 0 → rows 1, 5; 2 → row 4 (alone). G = 3.
    values = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    table, mask = sibling_table(values, torch.tensor([1, 0, 1, 1, 2, 0]))
    sibs = [sorted(table[i][mask[i]].tolist()) for i in range(6)]
    assert sibs == [[3.0, 4.0], [6.0], [1.0, 4.0], [1.0, 3.0], [], [2.0]]
    assert table.shape == (6, 3)


def test_invalid_parameters_and_attributes() -> None:
    with pytest.raises(ValueError, match="eta"):
        build_algorithm("craft", eta=-0.1)
    algo = build_algorithm("craft")
    assert algo.requires == frozenset({"teacher_logprobs"})
    assert algo.components == frozenset()
    assert algo.teacher_spec() == TeacherSpec(context="answer", weights="snapshot")
    assert (algo.eta, algo.sign_preserve) == (0.1, True)
