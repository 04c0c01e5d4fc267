"""OPSD (full distribution: a distillation component) and opsd-sampled (Δ as the advantage)."""

import math

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.losses import LossSettings, generalized_jsd, micro_batch_loss
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
    credit = build_algorithm("opsd-sampled").compute(_batch())
    expected = torch.tensor([[0.5, -1.0, 0.0], [-0.1, 0.0, 0.0]])
    torch.testing.assert_close(credit.advantages, expected)
    # |Δ| mean = (0.5 + 1.0 + 0 + 0.1)/4 = 0.4; KL(S‖T) k1 = mean(−Δ) = (−0.5+1+0+0.1)/4 = 0.15.
    assert credit.metrics["delta_abs_mean"] == pytest.approx(0.4)
    assert credit.metrics["teacher_student_kl"] == pytest.approx(0.15)


def test_sampled_advantage_clip() -> None:
    # Clamp to ±0.3: [[0.3, −0.3, 0.0], [−0.1, 0, 0]].
    credit = build_algorithm("opsd-sampled", advantage_clip=0.3).compute(_batch())
    torch.testing.assert_close(
        credit.advantages, torch.tensor([[0.3, -0.3, 0.0], [-0.1, 0.0, 0.0]])
    )


def test_sampled_mode_contract_properties() -> None:
    algo = build_algorithm("opsd-sampled")
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
        algo(batch.replace(teacher_logprobs=None))


def test_full_mode_advantages_zero_and_topk_mass() -> None:
    # Top-2 log-probs [log 0.5, log 0.25] on every position → mass 0.75 on the 4 real tokens.
    topk = torch.tensor([LOG(0.5), LOG(0.25)]).expand(2, 3, 2)
    ids = torch.zeros(2, 3, 2, dtype=torch.long)
    batch = _batch().replace(teacher_topk_ids=ids, teacher_topk_logprobs=topk)
    credit = build_algorithm("opsd")(batch)
    assert torch.equal(credit.advantages, torch.zeros(2, 3))
    assert credit.metrics["teacher_topk_mass"] == pytest.approx(0.75)
    target = credit.components["distill"]
    assert target.ids is ids and target.logprobs is topk
    # The component's token weight is the response mask: padding never enters the loss.
    assert torch.equal(target.weight, batch.response_mask.float())


def _distill(algo, s, t):
    batch = _batch().replace(
        response_mask=torch.ones(1, 2, dtype=torch.bool),
        rewards=torch.ones(1),
        group_ids=torch.zeros(1, dtype=torch.long),
        logprobs=torch.zeros(1, 2),
        teacher_logprobs=None,
        teacher_topk_ids=torch.zeros(1, 2, 2, dtype=torch.long),
        teacher_topk_logprobs=t,
    )
    target = algo(batch).components["distill"]
    return target.divergence(s, target.logprobs)


def test_distill_divergence_hand_computed() -> None:
    # Student top-2 [0.5, 0.25] (tail 0.25), teacher [0.25, 0.25] (tail 0.5); β = 0 terms:
    # [0.25·log 0.5, 0, 0.5·log 2] = [−0.173287, 0, 0.346574]; default clip 0.05 → −0.123287.
    s = torch.tensor([LOG(0.5), LOG(0.25)]).expand(1, 2, 2).clone().requires_grad_(True)
    t = torch.tensor([LOG(0.25), LOG(0.25)]).expand(1, 2, 2)
    loss = _distill(build_algorithm("opsd"), s, t)
    assert loss.shape == (1, 2)
    torch.testing.assert_close(loss.detach(), torch.full((1, 2), -0.123287), atol=1e-6, rtol=0)
    loss.sum().backward()
    assert s.grad is not None
    # Parameters pass through: β = 0.5, no clip.
    algo = build_algorithm("opsd", beta=0.5, token_clip=None)
    torch.testing.assert_close(_distill(algo, s, t), generalized_jsd(s, t, beta=0.5))


def test_distill_component_in_the_shared_loss() -> None:
    # Two real tokens (of 3 positions), token_mean: w = 1/2 on each real token. Advantages 0 and
    # ratio 1 → the surrogate is 0; the component adds Σ w·ℓ = (−0.123287 − 0.123287)/2.
    t = torch.tensor([LOG(0.25), LOG(0.25)]).expand(1, 3, 2)
    s = torch.tensor([LOG(0.5), LOG(0.25)]).expand(1, 3, 2).clone().requires_grad_(True)
    mask = torch.tensor([[True, True, False]])
    batch = RolloutBatch(
        rewards=torch.ones(1),
        group_ids=torch.zeros(1, dtype=torch.long),
        response_mask=mask,
        logprobs=torch.zeros(1, 3),
        teacher_topk_ids=torch.zeros(1, 3, 2, dtype=torch.long),
        teacher_topk_logprobs=t,
    )
    credit = build_algorithm("opsd")(batch)
    logp = torch.zeros(1, 3, requires_grad=True)
    weights = mask.float() / 2
    loss, _, parts = micro_batch_loss(
        logp,
        s,
        torch.zeros(1, 3),
        credit.advantages,
        mask,
        weights,
        LossSettings(),
        components=credit.components,
    )
    assert parts["distill"] == pytest.approx(-0.123287, abs=1e-6)
    assert float(loss) == pytest.approx(-0.123287, abs=1e-6)
    loss.backward()
    assert s.grad is not None and torch.all(s.grad[0, 2] == 0)  # padding gets no gradient


def test_capabilities_are_fixed_per_name() -> None:
    full = build_algorithm("opsd", top_k=20)
    assert full.requires == frozenset({"teacher_topk_ids", "teacher_topk_logprobs"})
    assert full.components == {"distill"}
    assert full.teacher_spec() == TeacherSpec(context="solution", weights="fixed", top_k=20)
    sampled = build_algorithm("opsd-sampled")
    assert sampled.requires == frozenset({"teacher_logprobs"})
    assert sampled.components == frozenset()
    assert sampled.teacher_spec() == TeacherSpec(context="solution", weights="fixed")


def test_invalid_parameters_raise() -> None:
    with pytest.raises(ValueError, match="has no parameter 'mode'"):
        build_algorithm("opsd", mode="sampled")
    with pytest.raises(ValueError, match="token_clip"):
        build_algorithm("opsd", token_clip=0.0)
    with pytest.raises(ValueError, match="beta"):
        build_algorithm("opsd", beta=2.0)
