"""SDPG (lauyikfung/SDPG ``compute_sdpg_loss``): β schedule, gating, the KL terms, reductions."""

import math

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.algorithms.base import FULL_VOCABULARY
from creditzoo.algorithms.sdpg import effective_beta, ref_penalty, reverse_kl
from creditzoo.compose import algorithm_from_config
from creditzoo.config_schema import LossSettings
from creditzoo.losses import micro_batch_loss
from creditzoo.testing import fit_config

LOG = math.log
S = [LOG(0.5), LOG(0.5)]
T = [LOG(0.25), LOG(0.75)]
# KL(S‖T) = 0.5·ln(0.5/0.25) + 0.5·ln(0.5/0.75) = 0.346574 − 0.202733 = 0.143841.
KL_ST = 0.143841


def test_beta_schedule_hand_computed() -> None:
    # Warm-up W = 4 (1-based s): s/4 below 4, then β.
    assert [effective_beta(1.0, s, 0, 4, 0) for s in (1, 2, 4, 9)] == [0.25, 0.5, 1.0, 1.0]
    # Decay D = 4 of S = 10: from s = 6 on, (10 − s)/4: 1, 0.75, …, 0; past the end 0.
    assert [effective_beta(1.0, s, 10, 0, 4) for s in (5, 6, 7, 10, 12)] == [
        1.0,
        1.0,
        0.75,
        0.0,
        0.0,
    ]
    # Both: s = 3, W = 4, D = 8, S = 10 → 3/4 · (10 − 3)/8 = 0.75 · 0.875 = 0.65625.
    assert effective_beta(1.0, 3, 10, 4, 8) == pytest.approx(0.65625)
    # S = 0 skips the decay (the reference without total_training_steps).
    assert effective_beta(2.0, 7, 0, 0, 4) == 2.0


def _batch(rewards: list[float], step: int = 0) -> RolloutBatch:
    n = len(rewards)
    return RolloutBatch(
        rewards=torch.tensor(rewards),
        group_ids=torch.zeros(n, dtype=torch.long),
        response_mask=torch.ones(n, 1, dtype=torch.bool),
        logprobs=torch.zeros(n, 1),
        step=step,
        teacher_topk_ids=torch.tensor([0, 1]).expand(n, 1, 2),
        teacher_topk_logprobs=torch.tensor(T).expand(n, 1, 2),
        ref_logprobs=torch.full((n, 1), -1.5),
    )


def test_step_is_one_based_in_the_schedule() -> None:
    # batch.step 0 is the reference's global step 1: β·1/4 with W = 4.
    credit = build_algorithm("sdpg", beta=0.4, warmup_steps=4)(_batch([1.0, 0.0], step=0))
    assert credit.metrics["beta_effective"] == pytest.approx(0.1)
    torch.testing.assert_close(credit.components["distill"].weight, torch.full((2, 1), 0.1))


def test_positive_only_gates_the_distillation() -> None:
    # Group [1, 0]: A = ±0.707107; only row 0 is distilled.
    credit = build_algorithm("sdpg", beta=0.5, positive_only=True)(_batch([1.0, 0.0]))
    torch.testing.assert_close(credit.components["distill"].weight, torch.tensor([[0.5], [0.0]]))
    assert credit.metrics["distilled_row_frac"] == 0.5
    # The reference-KL term is not gated.
    torch.testing.assert_close(credit.components["ref_kl"].weight, torch.full((2, 1), 0.001))


def test_divergences_hand_computed() -> None:
    assert float(reverse_kl(torch.tensor(S), torch.tensor(T))) == pytest.approx(KL_ST, abs=1e-6)
    # Clamped at 20 with no gradient beyond: p_S = [1 − 1e-12, 1e-12] against p_T ≈ [e^−30, 1].
    s = torch.tensor([LOG(1 - 1e-12), LOG(1e-12)], requires_grad=True)
    far = reverse_kl(s, torch.tensor([-30.0, LOG(1 - math.exp(-30))]))
    assert float(far.detach()) == 20.0
    far.backward()
    assert s.grad is not None and torch.all(s.grad == 0)
    # f(u), u = log π_θ − log π_ref = −1 − (−1.5) = 0.5:
    # urkl ½·0.25 = 0.125; rkl ½·1.5² = 1.125; fkl e^−0.5 = 0.606531; ufkl 0.606531 + 0.5.
    student, ref = torch.tensor([[-1.0]]), torch.tensor([[-1.5]])
    expected = {"urkl": 0.125, "rkl": 1.125, "fkl": 0.606531, "ufkl": 1.106531}
    for mode, value in expected.items():
        assert float(ref_penalty(student, ref, mode)) == pytest.approx(value, abs=1e-6), mode


def _loss(algo_name: str, batch: RolloutBatch, **params) -> tuple[torch.Tensor, dict, torch.Tensor]:
    credit = build_algorithm(algo_name, **params)(batch)
    n = batch.num_rows
    logp = torch.full((n, 1), -1.0, requires_grad=True)
    student = torch.tensor(S).expand(n, 1, 2).clone().requires_grad_(True)
    mask = batch.response_mask
    loss, _, parts = micro_batch_loss(
        logp,
        student if credit.components else None,
        torch.full((n, 1), -1.0),
        credit.advantages,
        mask,
        mask.float() / n,
        LossSettings(),
        components=credit.components,
    )
    loss.backward()
    assert logp.grad is not None
    return loss.detach(), parts, logp.grad


def test_three_terms_share_the_token_mean() -> None:
    # Group [1, 1]: A = 0, so the PPO term is 0. Two tokens, w = ½ each; β = 0.1, α = 0.2.
    # distill = Σ w·β·KL = 0.1·0.143841 = 0.0143841; ref_kl (urkl, u = −1 − (−1.5) = 0.5)
    # = Σ w·α·½u² = 0.2·0.125 = 0.025; total 0.0393841.
    # ∂/∂logp of the α term: w·α·u = ½·0.2·0.5 = 0.05 per token (the sampled token's log-prob).
    loss, parts, grad = _loss("sdpg", _batch([1.0, 1.0]), beta=0.1, alpha=0.2)
    assert parts["distill"] == pytest.approx(0.0143841, abs=1e-6)
    assert parts["ref_kl"] == pytest.approx(0.025, abs=1e-6)
    assert float(loss) == pytest.approx(0.0393841, abs=1e-6)
    torch.testing.assert_close(grad, torch.full((2, 1), 0.05))


def test_reduces_to_grpo_without_beta_and_alpha() -> None:
    batch = _batch([1.0, 0.0])
    sdpg_loss, parts, sdpg_grad = _loss("sdpg", batch, beta=0.0, alpha=0.0)
    grpo_loss, _, grpo_grad = _loss("grpo", batch)
    assert parts["distill"] == 0.0 and parts["ref_kl"] == 0.0
    torch.testing.assert_close(sdpg_loss, grpo_loss)
    torch.testing.assert_close(sdpg_grad, grpo_grad)
    torch.testing.assert_close(
        build_algorithm("sdpg")(batch).advantages, build_algorithm("grpo")(batch).advantages
    )


def test_teacher_and_reference_are_the_references() -> None:
    algo = build_algorithm("sdpg")
    assert algo.teacher_spec() == TeacherSpec(
        context="answer", weights="live", top_k=FULL_VOCABULARY
    )
    assert "ref_logprobs" in algo.requires
    assert (algo.beta, algo.alpha, algo.kl_mode) == (0.001, 0.001, "urkl")


def test_total_steps_is_the_runs_unless_set() -> None:
    assert algorithm_from_config(fit_config(["algorithm=sdpg", "max_steps=7"])).total_steps == 7
    cfg = fit_config(["algorithm=sdpg", "max_steps=7", "algorithm.total_steps=3"])
    assert algorithm_from_config(cfg).total_steps == 3
