"""RLCSD on hand-computed tensors, reductions, the sign clamp, and the folded two-path loss."""

import math

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.losses import LossNormalizer, policy_loss
from creditzoo.testing import make_batch

# One group, rewards [1, 0]: A = ±0.5 / sqrt(0.5) = ±0.707107.
A = 0.7071068
LOG = math.log


def _batch(teacher, neg, neg_mask, rewards=(1.0, 0.0)) -> RolloutBatch:
    teacher = torch.tensor(teacher)
    return RolloutBatch(
        rewards=torch.tensor(rewards),
        group_ids=torch.zeros(len(rewards), dtype=torch.long),
        response_mask=torch.ones(teacher.shape, dtype=torch.bool),
        logprobs=torch.zeros(teacher.shape),
        teacher_logprobs=teacher,
        teacher_mask=torch.ones(len(rewards), dtype=torch.bool),
        neg_teacher_logprobs=torch.tensor(neg),
        neg_mask=torch.tensor(neg_mask),
    )


def _hand_batch(invalid_slot: float = 0.0) -> RolloutBatch:
    # Row 0: both negatives valid, p = 0.2 and 0.6 → log-mean-exp = log 0.4 (a mean of logs
    #   would give log sqrt(0.12) = log 0.3464). Teacher = log 0.4 + e with e = [0.02, −0.02, 2e-4].
    # Row 1: slot 0 valid with p = 0.5, slot 1 invalid (holds `invalid_slot`); e = [0.1, 0.06, 0].
    return _batch(
        teacher=[
            [LOG(0.4) + 0.02, LOG(0.4) - 0.02, LOG(0.4) + 2e-4],
            [LOG(0.5) + 0.1, LOG(0.5) + 0.06, LOG(0.5)],
        ],
        neg=[[[LOG(0.2)] * 3, [LOG(0.6)] * 3], [[LOG(0.5)] * 3, [invalid_slot] * 3]],
        neg_mask=[[True, True], [True, False]],
    )


def test_hand_computed_defaults() -> None:
    # τ = 0.02, βλ = 0.5, δ = 0.02: r = 0.5·tanh(e/0.02).
    # Row 0 (A = +0.707107):
    #   e = 0.02  → r = 0.5·tanh(1) = 0.380797 (selected)  → A' = 1.087904
    #   e = −0.02 → r = −0.380797 (selected)               → A' = 0.326310
    #   e = 2e-4  → r = 0.5·tanh(0.01) = 0.005 ≤ δ         → not selected, keeps A
    # Row 1 (A = −0.707107):
    #   e = 0.1  → r = 0.5·tanh(5) = 0.499955 (selected)   → A' = −0.207152
    #   e = 0.06 → r = 0.5·tanh(3) = 0.497527 (selected)   → A' = −0.209579
    #   e = 0    → r = 0                                   → not selected, keeps A
    # N_tok = 6, N_sel = 4, N_ns = 2 → c_sel = 6/4 = 1.5, c_ns = 6/2 = 3.
    credit = build_algorithm("rlcsd").compute(_hand_batch())
    expected = torch.tensor(
        [[1.5 * 1.087904, 1.5 * 0.326310, 3 * A], [1.5 * -0.207152, 1.5 * -0.209579, 3 * -A]]
    )
    torch.testing.assert_close(credit.advantages, expected, atol=1e-5, rtol=0)
    m = credit.metrics
    assert m["selected_frac"] == pytest.approx(4 / 6)
    assert m["k_valid_mean"] == pytest.approx(1.5)
    # e mean = (0.02 − 0.02 + 2e-4 + 0.1 + 0.06 + 0)/6 = 0.026700.
    assert m["e_ctr_mean"] == pytest.approx(0.0267, abs=1e-5)
    # |r| over selected = (0.380797·2 + 0.499955 + 0.497527)/4 = 0.439769.
    assert m["residual_abs_mean"] == pytest.approx(0.439769, abs=1e-5)


@pytest.mark.parametrize("invalid", [-5.0, 3.0, -math.inf])
def test_invalid_negative_slot_is_ignored(invalid: float) -> None:
    # The invalid slot holds 0.0 in the hand batch (log p = 0 would mean p = 1 if it leaked).
    algo = build_algorithm("rlcsd")
    base = algo.compute(_hand_batch(0.0)).advantages
    assert torch.equal(base, algo.compute(_hand_batch(invalid)).advantages)


def test_residual_clip_sign_clamp_and_eta() -> None:
    # β = 4, λ = 0.5 → βλ = 2; r = clip(2·tanh(e/0.02), −1.5, 1.5); single valid negative = 0.
    # Row 0 (A = +0.707107): e = −0.1 → 2·tanh(−5) = −1.9998 → −1.5 → A' = −0.792893 → clamp 0;
    #                        e = 0.01 → 2·tanh(0.5) = 0.924234 → A' = 1.631341.
    # Row 1 (A = −0.707107): e = 0.1 → +1.5 → A' = 0.792893 → clamp 0;
    #                        e = −0.01 → −0.924234 → A' = −1.631341.
    # All 4 tokens selected: c_sel = η·4/4 = η.
    batch = _batch([[-0.1, 0.01], [0.1, -0.01]], [[[0.0, 0.0]], [[0.0, 0.0]]], [[True], [True]])
    for eta in (1.0, 0.5):
        algo = build_algorithm("rlcsd", beta=4.0, clip_low=-1.5, clip_high=1.5, eta=eta)
        expected = eta * torch.tensor([[0.0, 1.631341], [0.0, -1.631341]])
        torch.testing.assert_close(algo.compute(batch).advantages, expected, atol=1e-5, rtol=0)


def test_zero_advantage_group_stays_zero() -> None:
    batch = _batch([[-0.1, 0.5]] * 2, [[[0.0, 0.0]]] * 2, [[True]] * 2, rewards=(1.0, 1.0))
    adv = build_algorithm("rlcsd").compute(batch).advantages
    assert torch.equal(adv, torch.zeros(2, 2))


def _kept(batch: RolloutBatch) -> torch.Tensor:
    rewards = batch.rewards.view(-1, int((batch.group_ids == 0).sum()))
    informative = (rewards.max(1).values > rewards.min(1).values).repeat_interleave(
        rewards.shape[1]
    )
    return batch.teacher_mask & batch.neg_mask.any(1) & informative


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("params", [{"beta": 0.0}, {"lam": 0.0}])
def test_no_residual_is_grpo_on_the_kept_rows(seed: int, params: dict) -> None:
    # Nothing selected: Â = (N/N_kept)·A on kept rows, 0 on dropped ones.
    batch = make_batch(seed=seed)
    got = build_algorithm("rlcsd", **params).compute(batch).advantages
    kept = _kept(batch)
    m = batch.response_mask
    assert 0 < kept.sum() < kept.numel()  # make_batch drops some rows (teacher_mask, group 0)
    scale = m.sum() / m[kept].sum()
    grpo = build_algorithm("grpo").compute(batch).advantages
    torch.testing.assert_close(got, torch.where(kept[:, None], scale * grpo, 0.0))


def test_rows_without_negatives_are_dropped() -> None:
    batch = make_batch(seed=3)
    batch = batch.replace(neg_mask=torch.zeros_like(batch.neg_mask))
    got = build_algorithm("rlcsd").compute(batch)
    assert torch.equal(got.advantages, torch.zeros_like(got.advantages))
    assert got.metrics["selected_frac"] == 0.0 and got.metrics["kept_frac"] == 0.0


def test_dropped_rows_leave_the_loss_and_both_denominators() -> None:
    # Three groups of 2 rows, 2 tokens each (N = 12), β = 0 (nothing selected):
    #   group 0, rewards [1, 0]: row 0 has no positive context (teacher_mask False) → dropped;
    #   group 1, rewards [0, 0]: all equal → dropped (though it has contexts);
    #   group 2, rewards [1, 0]: row 5 has no valid negative → dropped.
    # Kept: rows 1 (A = −0.707107) and 4 (A = +0.707107): N_ns = 4, c_ns = 12/4 = 3.
    batch = RolloutBatch(
        rewards=torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
        group_ids=torch.tensor([0, 0, 1, 1, 2, 2]),
        response_mask=torch.ones(6, 2, dtype=torch.bool),
        logprobs=torch.zeros(6, 2),
        teacher_logprobs=torch.zeros(6, 2),
        teacher_mask=torch.tensor([False, True, True, True, True, True]),
        neg_teacher_logprobs=torch.zeros(6, 1, 2),
        neg_mask=torch.tensor([[True], [True], [True], [True], [True], [False]]),
    )
    credit = build_algorithm("rlcsd", beta=0.0).compute(batch)
    expected = torch.tensor([[0.0, 0.0], [-3 * A] * 2, [0.0, 0.0], [0.0, 0.0], [3 * A] * 2, [0, 0]])
    torch.testing.assert_close(credit.advantages, expected, atol=1e-5, rtol=0)
    assert credit.metrics["kept_frac"] == pytest.approx(2 / 6)
    # token_mean over all 12 tokens of c·A = the mean over the 4 kept tokens (the reference).
    assert float(credit.advantages.sum() / 12) == pytest.approx(float((-A - A + A + A) / 4))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sign_never_flips(seed: int) -> None:
    batch = make_batch(num_groups=4, group_size=6, num_negatives=3, seed=seed)
    adv = build_algorithm("rlcsd", beta=8.0).compute(batch).advantages  # residuals up to ±2
    grpo = build_algorithm("grpo").compute(batch).advantages
    m = batch.response_mask
    s, g = torch.sign(adv[m]), torch.sign(grpo[m])
    assert torch.all((s == 0) | (s == g))
    assert torch.all(adv[m][g == 0] == 0)
    assert (s == 0).any() and (s != 0).any()  # the clamp to 0 is exercised


def _reference_two_path(batch, logp, tau, beta, lam, delta, eta, clip):
    """RLCSD reference loss (rlcsd-exact.md §1), written independently of the algorithm."""
    a = build_algorithm("grpo").compute(batch).advantages
    m = batch.response_mask
    valid = batch.neg_mask
    w = batch.neg_teacher_logprobs.masked_fill(~valid[:, :, None], -math.inf)
    marg = torch.logsumexp(w, 1) - torch.log(valid.sum(1).clamp(min=1).float())[:, None]
    res = (beta * lam * torch.tanh((batch.teacher_logprobs - marg) / tau)).clamp(-2.0, 2.0)
    kept = m & _kept(batch)[:, None]  # the reference removes the other rows from the batch
    sel = (res.abs() > delta) & kept
    raw = a + sel * res
    mod = torch.where(a > 0, raw.clamp(min=0), torch.where(a < 0, raw.clamp(max=0), 0.0))
    ratio = torch.exp(logp - batch.logprobs)
    rc = ratio.clamp(1 - clip, 1 + clip)
    ns_tok, sel_tok = -torch.min(ratio * a, rc * a), -torch.min(ratio * mod, rc * mod)
    ns = kept & ~sel
    return (ns_tok * ns).sum() / ns.sum().clamp(min=1) + eta * (sel_tok * sel).sum() / sel.sum()


def test_token_scaling_reproduces_two_path_loss() -> None:
    batch = make_batch(num_groups=4, group_size=6, num_negatives=3, seed=7)
    valid = batch.neg_mask.clone()
    valid[::3, 1:] = False  # some rows with fewer valid negatives
    valid[::5] = False  # and some with none
    batch = batch.replace(neg_mask=valid)
    p = {"tau": 1.0, "beta": 1.0, "lam": 0.5, "delta": 0.3, "eta": 0.7}  # mixed selection
    credit = build_algorithm("rlcsd", **p).compute(batch)
    assert 0.1 < credit.metrics["selected_frac"] < 0.9
    g = torch.Generator().manual_seed(0)
    noise = 0.4 * torch.randn(batch.logprobs.shape, generator=g)  # ratios ≠ 1, some clipped
    logp1 = (batch.logprobs + noise).requires_grad_(True)
    logp2 = (batch.logprobs + noise).requires_grad_(True)
    mask = batch.response_mask
    norm = LossNormalizer("token_mean", float(mask.sum()), float(mask.shape[0]), mask.shape[1])
    weights = norm.token_weights(mask)
    ours, _ = policy_loss(logp1, batch.logprobs, credit.advantages, mask, weights, clip_high=0.2)
    ref = _reference_two_path(batch, logp2, clip=0.2, **p)
    assert float(ours.detach()) == pytest.approx(float(ref.detach()), abs=1e-6)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(logp1.grad, logp2.grad, atol=1e-6, rtol=0)


def test_attributes_and_validation() -> None:
    algo = build_algorithm("rlcsd")
    assert algo.requires == frozenset(
        {"teacher_logprobs", "teacher_mask", "neg_teacher_logprobs", "neg_mask"}
    )
    assert algo.teacher_spec() == TeacherSpec(
        context="correct_sibling", weights="snapshot", negative_context="wrong_sibling", negatives=4
    )
    assert build_algorithm("rlcsd", num_negatives=2).teacher_spec().negatives == 2
    for bad in ({"tau": 0.0}, {"delta": -0.1}, {"clip_low": 1.0, "clip_high": 0.5}):
        with pytest.raises(ValueError):
            build_algorithm("rlcsd", **bad)
