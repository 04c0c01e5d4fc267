"""Credit-audit metrics and effective credit on hand-computed cases (ties included)."""

import numpy as np
import pytest
import torch

from creditzoo.audit.effective import prefix_aggregated
from creditzoo.audit.metrics import (
    Response,
    blame_by_offset,
    error_gap,
    evaluate,
    first_error_auroc,
    negative_shares,
    top1_localisation,
)

LABELS = np.array([1, 1, 0, 0, -1])


def test_auroc_counts_ties_as_half():
    # E = {0.3, 0.5}, P = {0.1, 0.3}: pairs (0.3>0.1)=1, (0.3=0.3)=½, (0.5>0.1)=1, (0.5>0.3)=1
    # → 3.5 / 4 = 0.875. The suffix (0.0) is not scored.
    assert first_error_auroc(np.array([0.1, 0.3, 0.3, 0.5, 0.0]), LABELS) == 0.875


def test_uniform_blame_is_exactly_one_half_and_prefix_free_blame_is_one():
    assert first_error_auroc(np.full(5, 0.7), LABELS) == 0.5
    assert first_error_auroc(np.array([0.0, 0.0, 0.7, 0.7, 0.7]), LABELS) == 1.0
    assert first_error_auroc(np.ones(3), np.array([0, 0, -1])) is None  # no prefix


def test_top1_splits_ties():
    # argmax = {0, 2}, one of them in E → ½; uniform → |E| / T = 2/5.
    assert top1_localisation(np.array([0.5, 0.2, 0.5, 0.1]), np.array([1, 1, 0, -1])) == 0.5
    assert top1_localisation(np.full(5, 1.0), LABELS) == 0.4
    assert top1_localisation(np.ones(2), np.array([1, -1])) is None


def test_gap_in_units_of_the_advantage():
    # mean_E = (0.3 + 0.5)/2 = 0.4, mean_P = (0.1 + 0.3)/2 = 0.2 → 0.2 / |−0.5| = 0.4
    assert error_gap(np.array([0.1, 0.3, 0.3, 0.5, 0.0]), LABELS, -0.5) == pytest.approx(0.4)
    assert error_gap(np.ones(5), LABELS, 0.0) is None


def test_negative_shares_ignore_positive_credit():
    # b = [−0.2, 0.3 | 0.6 | 0.1]: negative-credit mass max(b, 0) = [0, 0.3, 0.6, 0.1], Σ = 1
    shares = negative_shares(np.array([-0.2, 0.3, 0.6, 0.1]), np.array([1, 1, 0, -1]))
    assert shares == pytest.approx((0.3, 0.6, 0.1))
    assert negative_shares(np.array([-1.0, -2.0]), np.array([1, 0])) is None


def _resp(group, labels, scored=True, correct=False, advantage=-0.5):
    return Response(group, correct, scored, np.array(labels), advantage)


def test_evaluate_macro_averages_responses_with_a_bootstrap_over_groups():
    responses = [
        _resp(0, [1, 0]),
        _resp(0, [1, 0]),
        _resp(1, [1, 0]),
        _resp(1, [1, 1], scored=False, correct=True, advantage=1.0),
    ]
    blames = [np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([1.0, 0.0]), np.array([0.5, -1])]
    out = evaluate(blames, responses, num_groups=2)
    auroc = out["auroc"]
    # per response 1.0, 0.5, 0.0 → mean 0.5 over n = 3; resampling groups gives 0.75, 0.5 or 0
    assert (auroc.mean, auroc.n) == (0.5, 3)
    assert 0.0 <= auroc.low <= auroc.mean <= auroc.high <= 0.75
    # the correct response has one token of negative credit (b = 0.5 > 0) out of 2
    assert out["neg_on_correct"].mean == 0.5 and out["neg_on_correct"].n == 1
    assert out["coverage"].mean == 1.0 and out["coverage"].n == 3
    assert evaluate(blames, responses, num_groups=2) == out  # seeded


def test_blame_by_offset_aligns_on_the_first_wrong_token():
    responses = [_resp(0, [1, 1, 0, -1], advantage=-2.0), _resp(0, [1, 0, 0], advantage=-1.0)]
    blames = [np.array([0.0, 2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0])]
    curve = blame_by_offset(blames, responses, span=2)
    # offset −2: 0/2; −1: (2/2 + 1/1)/2; 0: (4/2 + 3/1)/2; +1: (6/2 + 5/1)/2
    assert curve == {-2: 0.0, -1: 1.0, 0: 2.5, 1: 4.0}


def test_prefix_aggregation_cancels_shared_prefixes_within_a_group_only():
    ids = torch.tensor([[5, 6, 7], [5, 6, 8], [5, 9, 9], [5, 6, 7]])
    adv = torch.tensor([[1.0] * 3, [-0.5] * 3, [-0.5] * 3, [2.0] * 3])
    mask = torch.ones(4, 3, dtype=torch.bool)
    groups = torch.tensor([0, 0, 0, 1])
    out = prefix_aggregated(adv, ids, mask, groups, torch.ones(4, 3))
    # t=0: rows 0-2 share [5]: 1 − 0.5 − 0.5 = 0. t=1: rows 0,1 share [5,6]: 0.5; row 2 alone.
    # Row 3 has row 0's tokens but another prompt (group): never pooled.
    expected = torch.tensor([[0.0, 0.5, 1.0], [0.0, 0.5, -0.5], [0.0, -0.5, -0.5], [2.0, 2.0, 2.0]])
    assert torch.allclose(out, expected)


def test_prefix_aggregation_weights_and_padding():
    ids = torch.tensor([[5, 6], [5, 0]])
    mask = torch.tensor([[True, True], [True, False]])
    adv = torch.tensor([[1.0, 1.0], [-1.0, 0.0]])
    weights = torch.tensor([[0.5, 0.5], [1.0, 0.0]])  # seq_mean-like: 1/length
    out = prefix_aggregated(adv, ids, mask, torch.zeros(2, dtype=torch.long), weights)
    # t=0 shared: 0.5·1 + 1·(−1) = −0.5; row 0 t=1 alone: 0.5; padding stays 0
    assert torch.allclose(out, torch.tensor([[-0.5, 0.5], [-0.5, 0.0]]))
