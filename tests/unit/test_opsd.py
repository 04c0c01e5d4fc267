"""OPSD (full distribution: a distillation component) and opsd-sampled (Δ as the advantage)."""

import math
from dataclasses import replace
from functools import partial

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.algorithms.base import FULL_VOCABULARY, get_algorithm, list_algorithms
from creditzoo.config_schema import LossSettings
from creditzoo.losses import _with_tail, generalized_jsd, micro_batch_loss
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
    return target.divergence(s, target.logprobs), target.monitors["kl"](s, target.logprobs)


S2 = torch.tensor([LOG(0.5), LOG(0.25)]).expand(1, 2, 2)  # student top-2 (tail 0.25)
T2 = torch.tensor([LOG(0.25), LOG(0.25)]).expand(1, 2, 2)  # teacher top-2 (tail 0.5)


def test_rlcsd_configuration_hand_computed() -> None:
    # β = 0 terms on [id0, id1, tail]: [0.25·log 0.5, 0, 0.5·log 2] = [−0.173287, 0, 0.346574]
    # → D = 0.173287; clip 0.05 rescales the position: value 0.05, gradient ×0.05/0.173287.
    s = S2.clone().requires_grad_(True)
    loss, kl = _distill(build_algorithm("opsd-rlcsd"), s, T2)
    assert loss.shape == (1, 2)
    torch.testing.assert_close(loss.detach(), torch.full((1, 2), 0.05), atol=1e-6, rtol=0)
    # The monitor is the unclipped KL(T‖S) on the same buckets.
    torch.testing.assert_close(kl, torch.full((1, 2), 0.173287), atol=1e-6, rtol=0)
    loss.sum().backward()
    free = S2.clone().requires_grad_(True)
    generalized_jsd(free, T2, beta=0.0).sum().backward()
    torch.testing.assert_close(s.grad, free.grad * (0.05 / 0.173287), atol=1e-6, rtol=1e-5)


def test_default_is_the_papers_full_vocabulary_jsd() -> None:
    # Full vocabulary (no tail): student [0.5, 0.5], teacher [0.8, 0.2]. M = [0.65, 0.35]:
    # 0.5·KL(T‖M) + 0.5·KL(S‖M) = 0.5·0.054188 + 0.5·0.047155 = 0.050672 (no clip);
    # the monitor KL(T‖S) = 0.8·log 1.6 + 0.2·log 0.4 = 0.192745.
    s = torch.tensor([LOG(0.5), LOG(0.5)]).expand(1, 2, 2)
    t = torch.tensor([LOG(0.8), LOG(0.2)]).expand(1, 2, 2)
    loss, kl = _distill(build_algorithm("opsd"), s, t)
    torch.testing.assert_close(loss, torch.full((1, 2), 0.050672), atol=1e-6, rtol=0)
    torch.testing.assert_close(kl, torch.full((1, 2), 0.192745), atol=1e-6, rtol=0)
    # Parameters pass through: β = 0, top-k with a tail.
    algo = build_algorithm("opsd", beta=0.0, top_k=2)
    torch.testing.assert_close(_distill(algo, S2, T2)[0], generalized_jsd(S2, T2, beta=0.0))


def test_distill_component_in_the_shared_loss() -> None:
    # Two real tokens (of 3 positions), token_mean: w = 1/2 on each real token. Advantages 0 and
    # ratio 1 → the surrogate is 0; opsd-rlcsd's component adds Σ w·ℓ = (0.05 + 0.05)/2 = 0.05
    # and the monitor Σ w·KL = (0.173287 + 0.173287)/2.
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
    credit = build_algorithm("opsd-rlcsd")(batch)
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
    assert parts["distill"] == pytest.approx(0.05, abs=1e-6)
    assert parts["distill_kl"] == pytest.approx(0.173287, abs=1e-6)
    assert float(loss.detach()) == pytest.approx(0.05, abs=1e-6)  # the monitor is not in the loss
    loss.backward()
    assert s.grad is not None and torch.all(s.grad[0, 2] == 0)  # padding gets no gradient


def test_capabilities_are_fixed_per_name() -> None:
    full = build_algorithm("opsd")
    assert full.requires == frozenset({"teacher_topk_ids", "teacher_topk_logprobs"})
    assert full.components == {"distill"}
    assert full.teacher_spec() == TeacherSpec(
        context="solution", weights="fixed", top_k=FULL_VOCABULARY
    )
    assert build_algorithm("opsd", top_k=20).teacher_spec().top_k == 20
    rlcsd = build_algorithm("opsd-rlcsd")
    assert (rlcsd.beta, rlcsd.token_clip, rlcsd.top_k) == (0.0, 0.05, 100)
    assert rlcsd.requires == full.requires and rlcsd.components == full.components
    assert rlcsd.teacher_spec().top_k == 100
    sampled = build_algorithm("opsd-sampled")
    assert sampled.requires == frozenset({"teacher_logprobs"})
    assert sampled.components == frozenset()
    assert sampled.teacher_spec() == TeacherSpec(context="solution", weights="fixed")


# ------------------------------------------------------------------ learning toward the teacher
V, POSITIONS = 128, 6


def _kl_teacher_student(student_logits: torch.Tensor, teacher_logp: torch.Tensor) -> float:
    s = torch.log_softmax(student_logits, -1)
    return float((teacher_logp.exp() * (teacher_logp - s)).sum(-1).mean())


def _train(name: str, per_bucket_clamp: float | None = None) -> tuple[float, float]:
    """10 Adam steps of the distillation loss on a 'student' that is a table of logits.

    Confident teacher: at each position 0.9 on a token the student gives ≈ 0.2 (its own mode
    has ≈ 0.5). Returns the full-vocabulary KL(teacher‖student) before and after."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(POSITIONS, V, generator=g) * 0.1
    student_logits = base.clone()
    student_logits[:, 0] += 6.0  # the student's mode
    student_logits[:, 1] += 5.0  # the teacher's choice, second for the student
    logits = student_logits[None].clone().requires_grad_(True)  # [1, T, V]
    teacher_logits = base.clone()
    teacher_logits[:, 1] += 8.0
    teacher = torch.log_softmax(teacher_logits, -1)[None]  # [1, T, V], p_T(1) ≈ 0.95
    algo = build_algorithm(name)
    k = algo.teacher_spec().top_k
    topk, ids = teacher.topk(min(k, V), dim=-1)  # what the scoring pass hands over
    mask = torch.ones(1, POSITIONS, dtype=torch.bool)
    batch = RolloutBatch(
        rewards=torch.ones(1),
        group_ids=torch.zeros(1, dtype=torch.long),
        response_mask=mask,
        logprobs=torch.zeros(1, POSITIONS),
        teacher_topk_ids=ids,
        teacher_topk_logprobs=topk,
        # What the other distillers also read: every row has its context, a sure teacher, and
        # the reference is the student (their further terms are not trained here).
        teacher_mask=torch.ones(1, dtype=torch.bool),
        teacher_entropies=torch.zeros(1, POSITIONS),
        ref_logprobs=torch.zeros(1, POSITIONS),
    )
    target = algo(batch).components["distill"]
    if per_bucket_clamp is not None:  # the references' per-(position, bucket) clamp
        target = replace(target, divergence=partial(_clamped, clip=per_bucket_clamp))
    before = _kl_teacher_student(logits.detach()[0], teacher[0])
    opt = torch.optim.Adam([logits], lr=0.05)
    for _ in range(10):
        opt.zero_grad()
        gathered = torch.log_softmax(logits, -1).gather(-1, target.ids)
        ((target.divergence(gathered, target.logprobs) * target.weight).sum() / 6).backward()
        opt.step()
    return before, _kl_teacher_student(logits.detach()[0], teacher[0])


def _clamped(s: torch.Tensor, t: torch.Tensor, clip: float) -> torch.Tensor:
    s, t = _with_tail(s), _with_tail(t)
    return (t.exp() * (t - s)).clamp(max=clip).sum(-1)


# Every shipped setting that distils: each registered algorithm with a "distill" component.
DISTILLERS = [n for n in list_algorithms() if "distill" in get_algorithm(n).components]


def test_every_opsd_setting_is_covered() -> None:
    assert {"opsd", "opsd-rlcsd"} <= set(DISTILLERS)


@pytest.mark.parametrize("name", DISTILLERS)
def test_optimizer_steps_reduce_kl_to_the_teacher(name: str) -> None:
    before, after = _train(name)
    assert after < 0.8 * before, (before, after)


def test_the_fixture_catches_a_per_bucket_clamp() -> None:
    # The same fixture with the references' per-bucket clamp at 0.05 moves *away* from the
    # teacher: the clamped bucket (the teacher's token) gets no gradient, the rest push it down.
    before, after = _train("opsd-rlcsd", per_bucket_clamp=0.05)
    assert after > before


def test_invalid_parameters_raise() -> None:
    with pytest.raises(ValueError, match="has no parameter 'mode'"):
        build_algorithm("opsd", mode="sampled")
    with pytest.raises(ValueError, match="token_clip"):
        build_algorithm("opsd", token_clip=0.0)
    with pytest.raises(ValueError, match="beta"):
        build_algorithm("opsd", beta=2.0)
