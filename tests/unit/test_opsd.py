"""OPSD: the sampled-token advantage, the full-mode metrics and distillation loss, attributes."""

import math

import pytest
import torch

from creditzoo import RolloutBatch, build_algorithm
from creditzoo.algorithms.base import TEACHER_TOPK_IDS, TEACHER_TOPK_LOGPROBS
from creditzoo.losses import generalized_jsd
from creditzoo.testing import make_batch

LOG = math.log


def _batch() -> RolloutBatch:
    # Row 0: 3 real tokens; row 1: 1 real token then padding.
    return RolloutBatch(
        rewards=torch.tensor([1.0, 0.0]),
        group_ids=torch.tensor([0, 0]),
        response_mask=torch.tensor([[True, True, True], [True, False, False]]),
        logprobs=torch.tensor([[-1.0, -2.0, -0.5], [-0.1, -7.0, -7.0]]),
        teacher_logprobs=torch.tensor([[-0.5, -3.0, -0.5], [-0.2, 0.0, 0.0]]),
    )


def test_sampled_advantage_is_delta() -> None:
    # Δ = teacher − student = [[0.5, −1.0, 0.0], [−0.1, ·, ·]]; padding → 0. Rewards unused.
    credit = build_algorithm("opsd", mode="sampled").compute(_batch())
    expected = torch.tensor([[0.5, -1.0, 0.0], [-0.1, 0.0, 0.0]])
    torch.testing.assert_close(credit.advantages, expected)
    # |Δ| mean = (0.5 + 1.0 + 0 + 0.1)/4 = 0.4; KL(S‖T) k1 = mean(−Δ) = (−0.5+1+0+0.1)/4 = 0.15.
    assert credit.metrics["delta_abs_mean"] == pytest.approx(0.4)
    assert credit.metrics["teacher_student_kl"] == pytest.approx(0.15)


def test_sampled_advantage_clip() -> None:
    # Clamp to ±0.3: [[0.3, −0.3, 0.0], [−0.1, 0, 0]].
    credit = build_algorithm("opsd", mode="sampled", advantage_clip=0.3).compute(_batch())
    torch.testing.assert_close(
        credit.advantages, torch.tensor([[0.3, -0.3, 0.0], [-0.1, 0.0, 0.0]])
    )


def test_sampled_mode_contract_properties() -> None:
    algo = build_algorithm("opsd", mode="sampled")
    batch = make_batch(seed=2)
    adv = algo.compute(batch).advantages
    assert adv.shape == batch.response_mask.shape
    assert torch.all(adv[~batch.response_mask] == 0.0)
    pad = torch.nn.functional.pad
    padded_batch = batch.replace(
        response_mask=pad(batch.response_mask, (0, 3), value=False),
        logprobs=pad(batch.logprobs, (0, 3)),
        teacher_logprobs=pad(batch.teacher_logprobs, (0, 3), value=5.0),
    )
    padded = algo.compute(padded_batch).advantages
    torch.testing.assert_close(padded[:, : adv.shape[1]], adv)
    with pytest.raises(ValueError, match="teacher_logprobs"):
        algo.compute(batch.replace(teacher_logprobs=None))


def test_full_mode_advantages_zero_and_topk_mass() -> None:
    # Top-2 log-probs [log 0.5, log 0.25] on every position → mass 0.75 on the 4 real tokens.
    topk = torch.tensor([LOG(0.5), LOG(0.25)]).expand(2, 3, 2)
    batch = _batch().replace(
        extras={
            TEACHER_TOPK_IDS: torch.zeros(2, 3, 2, dtype=torch.long),
            TEACHER_TOPK_LOGPROBS: topk,
        }
    )
    credit = build_algorithm("opsd").compute(batch)
    assert torch.equal(credit.advantages, torch.zeros(2, 3))
    assert credit.metrics["teacher_topk_mass"] == pytest.approx(0.75)


def test_distill_loss_hand_computed() -> None:
    # Student top-2 [0.5, 0.25] (tail 0.25), teacher [0.25, 0.25] (tail 0.5); β = 0 terms:
    # [0.25·log 0.5, 0, 0.5·log 2] = [−0.173287, 0, 0.346574]; default clip 0.05 → −0.123287.
    s = torch.tensor([LOG(0.5), LOG(0.25)]).expand(1, 2, 2).clone().requires_grad_(True)
    t = torch.tensor([LOG(0.25), LOG(0.25)]).expand(1, 2, 2)
    loss = build_algorithm("opsd").distill_loss(s, t)
    assert loss.shape == (1, 2)
    torch.testing.assert_close(loss.detach(), torch.full((1, 2), -0.123287), atol=1e-6, rtol=0)
    loss.sum().backward()
    assert s.grad is not None
    # Parameters pass through: β = 0.5, no clip.
    algo = build_algorithm("opsd", beta=0.5, token_clip=None)
    torch.testing.assert_close(algo.distill_loss(s, t), generalized_jsd(s, t, beta=0.5))


def test_attributes_follow_mode() -> None:
    full = build_algorithm("opsd", top_k=20)
    assert full.requires == frozenset({"teacher_topk"})
    assert (full.objective, full.teacher_top_k) == ("distill", 20)
    sampled = build_algorithm("opsd", mode="sampled")
    assert sampled.requires == frozenset({"teacher_logprobs"})
    assert (sampled.objective, sampled.teacher_top_k) == ("pg", 0)
    for algo in (full, sampled):
        assert (algo.teacher_context, algo.teacher_weights) == ("solution", "fixed")


def test_invalid_parameters_raise() -> None:
    with pytest.raises(TypeError, match="mode"):
        build_algorithm("opsd", mode="dense")
    with pytest.raises(ValueError, match="token_clip"):
        build_algorithm("opsd", token_clip=0.0)
    with pytest.raises(ValueError, match="beta"):
        build_algorithm("opsd", beta=2.0)
