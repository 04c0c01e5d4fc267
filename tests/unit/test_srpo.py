"""SRPO (THU-BPM/RLCSD ``compute_policy_loss_srpo``): routing, entropy weights, one loss."""

import math

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.config_schema import LossSettings
from creditzoo.losses import micro_batch_loss

LOG = math.log
L2, L4 = LOG(2.0), LOG(4.0)


def _batch() -> RolloutBatch:
    # Group 0 rewards [1, 1, 0, 0]: mean 0.5, unbiased std √(4·0.25/3) = 0.577350, A = ±0.866025.
    # Group 1 rewards [1, 1]: all equal, A = 0. Row 3's second token is padding (11 real tokens).
    mask = torch.ones(6, 2, dtype=torch.bool)
    mask[3, 1] = False
    return RolloutBatch(
        rewards=torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0, 1.0]),
        group_ids=torch.tensor([0, 0, 0, 0, 1, 1]),
        response_mask=mask,
        logprobs=torch.zeros(6, 2),
        # exp(−H): H = 0 → 1, ln 2 → ½, ln 4 → ¼; 99 on padding must not count.
        teacher_entropies=torch.tensor(
            [[5.0, 5.0], [5.0, 5.0], [0.0, L2], [L4, 99.0], [0.0, 0.0], [L2, L2]]
        ),
        teacher_topk_ids=torch.zeros(6, 2, 3, dtype=torch.long),
        teacher_topk_logprobs=torch.full((6, 2, 3), -2.0),
    )


def test_routing_and_entropy_weights_hand_computed() -> None:
    # c = [1, 1, 0, 0, 0, 0]: rows 0–1 (A > 0) go to GRPO; the wrong rows 2–3 and the all-equal
    # group's rows 4–5 (A = 0) go to SDPO. Routed exp(−H): [1, ½], [¼], [1, 1], [½, ½]; sum 4.75
    # over 7 tokens, mean 0.678571; w̃ = exp(−H)·7/4.75 = [1.473684, 0.736842], [0.368421],
    # [1.473684, 1.473684], [0.736842, 0.736842].
    credit = build_algorithm("srpo")(_batch())
    a = 0.5 / (0.577350 + 1e-6)  # eps = 1e-6 in the denominator
    torch.testing.assert_close(
        credit.advantages,
        torch.tensor([[a, a], [a, a], [0, 0], [0, 0], [0, 0], [0, 0]]),
        atol=2e-6,
        rtol=0,
    )
    w = 28 / 19  # 7/4.75
    expected = torch.tensor(
        [[0, 0], [0, 0], [w, w / 2], [w / 4, 0], [w, w], [w / 2, w / 2]], dtype=torch.float32
    )
    torch.testing.assert_close(credit.components["distill"].weight, expected)
    assert credit.metrics["correct_row_frac"] == pytest.approx(2 / 6)
    assert credit.metrics["distilled_token_frac"] == pytest.approx(7 / 11)
    assert credit.metrics["dw_weight_mean"] == pytest.approx(4.75 / 7)  # max log w̃ is 0 here
    assert credit.components["distill"].is_clip == 2.0


def test_beta_zero_weights_every_routed_token_equally() -> None:
    credit = build_algorithm("srpo", beta=0.0)(_batch())
    weight = credit.components["distill"].weight
    routed = _batch().response_mask.clone()
    routed[:2] = False
    torch.testing.assert_close(weight, routed.float())


def test_weights_are_scale_free_in_the_entropy_offset() -> None:
    # exp(−β(H + c)) / mean = exp(−βH) / mean: a constant shift of H changes nothing (the
    # reference subtracts the max log-weight for stability, as here).
    batch = _batch()
    shifted = batch.replace(teacher_entropies=batch.teacher_entropies + 30.0)
    a = build_algorithm("srpo", beta=2.0)(batch).components["distill"].weight
    b = build_algorithm("srpo", beta=2.0)(shifted).components["distill"].weight
    torch.testing.assert_close(a, b)


def test_grpo_rows_keep_grpo_advantages() -> None:
    # Reduction: on rows with A_i > 0 the advantages are grpo's, elsewhere 0.
    batch = _batch()
    grpo = build_algorithm("grpo")(batch).advantages
    srpo = build_algorithm("srpo")(batch).advantages
    torch.testing.assert_close(srpo[:2], grpo[:2])
    assert torch.all(srpo[2:] == 0) and torch.all(grpo[2:4, 0] < 0)  # grpo's negatives go


def test_one_loss_normalised_over_both_token_sets() -> None:
    # Group [1, 0]: A = ±0.5/0.707107 = ±0.707107; one token each, token_mean w = ½.
    # Row 0 (GRPO): ratio 1 → ℓ = −A = −0.707107. Row 1 (SDPO, H = 0 → w̃ = 1, ρ = 1): the JSD of
    # student [½, ½] vs teacher [¼, ¾] at α = ½, 0.033822 (test_sdpo.py).
    # L = (−0.707107 + 0.033822)/2 = −0.336642.
    batch = RolloutBatch(
        rewards=torch.tensor([1.0, 0.0]),
        group_ids=torch.zeros(2, dtype=torch.long),
        response_mask=torch.ones(2, 1, dtype=torch.bool),
        logprobs=torch.zeros(2, 1),
        teacher_entropies=torch.zeros(2, 1),
        teacher_topk_ids=torch.tensor([0, 1]).expand(2, 1, 2),
        teacher_topk_logprobs=torch.tensor([LOG(0.25), LOG(0.75)]).expand(2, 1, 2),
    )
    credit = build_algorithm("srpo", top_k=None)(batch)
    student = torch.tensor([LOG(0.5), LOG(0.5)]).expand(2, 1, 2).clone().requires_grad_(True)
    logp = torch.zeros(2, 1, requires_grad=True)
    mask = batch.response_mask
    loss, _, parts = micro_batch_loss(
        logp,
        student,
        torch.zeros(2, 1),
        credit.advantages,
        mask,
        mask.float() / 2,
        LossSettings(),
        components=credit.components,
    )
    assert parts["distill"] == pytest.approx(0.033822 / 2, abs=1e-6)
    assert float(loss.detach()) == pytest.approx(-0.336642, abs=1e-6)
    loss.backward()
    # Only row 0's PPO term reaches logp (−A·w = −0.353553); only row 1 reaches the student.
    assert logp.grad is not None
    torch.testing.assert_close(logp.grad, torch.tensor([[-0.353553], [0.0]]), atol=1e-6, rtol=0)
    assert student.grad is not None and torch.all(student.grad[0] == 0)


def test_teacher_is_the_references() -> None:
    algo = build_algorithm("srpo")
    assert algo.teacher_spec() == TeacherSpec(
        context="solution", weights="ema", ema_decay=0.95, top_k=100
    )
    assert "teacher_entropies" in algo.requires
