"""SDPO (lasgroup/SDPO) and sdpo-rlcsd (THU-BPM/RLCSD's reimplementation), hand-computed."""

import math

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.algorithms.base import FULL_VOCABULARY
from creditzoo.config_schema import LossSettings
from creditzoo.data.problem import Problem
from creditzoo.losses import generalized_jsd, micro_batch_loss
from creditzoo.providers.contexts import CONTEXTS, DEFAULT_TEMPLATES, GroupOutcome
from creditzoo.verify import VerifyResult

LOG = math.log
# Student [0.5, 0.5], teacher [0.25, 0.75] over a 2-token vocabulary; α = 0.5: M = [0.375, 0.625],
# KL(T‖M) = 0.25·ln(0.25/0.375) + 0.75·ln(0.75/0.625) = −0.101366 + 0.136741 = 0.035375,
# KL(S‖M) = 0.5·ln(0.5/0.375) + 0.5·ln(0.5/0.625) = 0.143841 − 0.111572 = 0.032269,
# D = ½(0.035375 + 0.032269) = 0.033822.
S = [LOG(0.5), LOG(0.5)]
T = [LOG(0.25), LOG(0.75)]
JSD = 0.033822


def _batch(has_context: list[bool]) -> RolloutBatch:
    # Row 0: 3 real tokens, row 1: 2, row 2: 1 (6 real tokens). Full-vocabulary "top-k" of 2 ids.
    mask = torch.tensor([[True, True, True], [True, True, False], [True, False, False]])
    return RolloutBatch(
        rewards=torch.tensor([1.0, 0.0, 0.0]),
        group_ids=torch.zeros(3, dtype=torch.long),
        response_mask=mask,
        logprobs=torch.zeros(3, 3),
        teacher_mask=torch.tensor(has_context),
        teacher_topk_ids=torch.tensor([0, 1]).expand(3, 3, 2),
        teacher_topk_logprobs=torch.tensor(T).expand(3, 3, 2),
    )


def test_only_rows_with_a_successful_sibling_are_distilled_over_their_own_tokens() -> None:
    # Rows 0 and 2 have a context: N_m = 3 + 1 = 4 of N = 6 real tokens, so the weight 6/4 = 1.5
    # on their tokens turns the loss's token mean (÷6) into the reference's mean over 4 tokens.
    credit = build_algorithm("sdpo")(_batch([True, False, True]))
    torch.testing.assert_close(credit.advantages, torch.zeros(3, 3))
    weight = credit.components["distill"].weight
    torch.testing.assert_close(
        weight, torch.tensor([[1.5, 1.5, 1.5], [0.0, 0.0, 0.0], [1.5, 0.0, 0.0]])
    )
    assert credit.metrics["distilled_row_frac"] == pytest.approx(2 / 3)
    assert credit.metrics["distilled_token_frac"] == pytest.approx(4 / 6)
    assert credit.components["distill"].is_clip == 2.0


def test_no_row_with_a_sibling_gives_a_zero_term() -> None:
    credit = build_algorithm("sdpo")(_batch([False, False, False]))
    assert torch.all(credit.components["distill"].weight == 0)
    assert credit.metrics["distilled_token_frac"] == 0.0


def test_sdpo_rlcsd_distils_every_row_with_a_plain_token_mean() -> None:
    # The solution context exists for every row: weight 6/6 = 1 on every real token.
    credit = build_algorithm("sdpo-rlcsd")(_batch([True, True, True]))
    mask = _batch([True, True, True]).response_mask
    torch.testing.assert_close(credit.components["distill"].weight, mask.float())


def test_jsd_value_and_support() -> None:
    # top_k=None: the whole vocabulary, no tail bucket; D as computed above.
    target = build_algorithm("sdpo", top_k=None)(_batch([True] * 3)).components["distill"]
    d = target.divergence(torch.tensor([S]), torch.tensor([T]))
    assert float(d) == pytest.approx(JSD, abs=1e-6)
    # With top-k, a tail bucket is appended on both sides (mass 1 here, so the tail is ≈ 0).
    tail = build_algorithm("sdpo")(_batch([True] * 3)).components["distill"]
    assert float(tail.divergence(torch.tensor([S]), torch.tensor([T]))) == pytest.approx(
        JSD, abs=1e-5
    )


def test_importance_ratio_is_clipped_and_carries_no_gradient() -> None:
    # Two routed tokens of one row, token_mean w = ½ each, weight 2/2 = 1. The student moved:
    # logp − old = ln 3 → ratio 3, clipped to 2; ln 0.5 → 0.5. Loss = ½·(2·D + 0.5·D) = 1.25·D.
    batch = RolloutBatch(
        rewards=torch.ones(1),
        group_ids=torch.zeros(1, dtype=torch.long),
        response_mask=torch.ones(1, 2, dtype=torch.bool),
        logprobs=torch.zeros(1, 2),
        teacher_mask=torch.ones(1, dtype=torch.bool),
        teacher_topk_ids=torch.tensor([0, 1]).expand(1, 2, 2),
        teacher_topk_logprobs=torch.tensor(T).expand(1, 2, 2),
    )
    credit = build_algorithm("sdpo", top_k=None)(batch)
    logp = torch.tensor([[LOG(3.0), LOG(0.5)]], requires_grad=True)
    student = torch.tensor(S).expand(1, 2, 2).clone().requires_grad_(True)
    mask = batch.response_mask
    loss, _, parts = micro_batch_loss(
        logp,
        student,
        torch.zeros(1, 2),
        credit.advantages,
        mask,
        mask.float() / 2,
        LossSettings(),
        components=credit.components,
    )
    assert parts["distill"] == pytest.approx(1.25 * JSD, abs=1e-6)
    loss.backward()
    assert logp.grad is not None and torch.all(logp.grad == 0)  # A = 0 and ρ is detached
    assert student.grad is not None and student.grad.abs().sum() > 0


def test_reduces_to_opsd_with_every_context_and_no_is_clip() -> None:
    # Same β = α, same support, every row routed (weight 1), no IS ratio: the same loss term.
    batch = _batch([True, True, True])
    sdpo = build_algorithm("sdpo", top_k=None, is_clip=None, alpha=0.5)(batch)
    opsd = build_algorithm("opsd", beta=0.5)(batch)
    a, b = sdpo.components["distill"], opsd.components["distill"]
    torch.testing.assert_close(a.weight, b.weight)
    assert a.is_clip is None and b.is_clip is None
    s, t = torch.tensor([S]), torch.tensor([T])
    torch.testing.assert_close(a.divergence(s, t), b.divergence(s, t))
    torch.testing.assert_close(a.divergence(s, t), generalized_jsd(s, t, beta=0.5, add_tail=False))


def test_teachers_are_the_references() -> None:
    sdpo = build_algorithm("sdpo")
    assert sdpo.teacher_spec() == TeacherSpec(
        context="first_correct_sibling", weights="ema", ema_decay=0.95, top_k=100
    )
    assert build_algorithm("sdpo", top_k=None).teacher_spec().top_k == FULL_VOCABULARY
    rlcsd = build_algorithm("sdpo-rlcsd")
    assert rlcsd.teacher_spec() == TeacherSpec(
        context="solution", weights="ema", ema_decay=0.95, top_k=100
    )
    assert sdpo.requires == frozenset({"teacher_topk_ids", "teacher_topk_logprobs", "teacher_mask"})


# ------------------------------------------------------------------ the demonstration context
PROBLEM = Problem("p1", "Compute 2+3.", "5", "2+3=5. \\boxed{5}")


def _group(correct: list[bool], texts: list[str]) -> GroupOutcome:
    verdicts = [
        VerifyResult(reward=float(c), correct=c, status="ok", parsed="5" if c else "4")
        for c in correct
    ]
    return GroupOutcome(PROBLEM, texts, verdicts)


def _context(group: GroupOutcome, row: int) -> str | None:
    templates = {**DEFAULT_TEMPLATES, "correct_sibling": "[{response}]"}
    return CONTEXTS.get("first_correct_sibling")(group, row, templates)


def test_first_correct_sibling_is_the_first_other_success_by_index() -> None:
    # Rows: wrong "a", correct "b", correct "b" (same text), correct "c".
    group = _group([False, True, True, True], ["a", "b", "b", "c"])
    assert _context(group, 0) == "[b]"  # row 1, the first success
    assert _context(group, 1) == "[b]"  # never itself: row 2, whose text equals its own
    assert _context(group, 2) == "[b]"  # row 1
    assert _context(group, 3) == "[b]"  # row 1
    # A lone success has no demonstration; nor has a group without success.
    assert _context(_group([True, False], ["b", "a"]), 0) is None
    assert _context(_group([True, False], ["b", "a"]), 1) == "[b]"
    assert _context(_group([False, False], ["a", "a"]), 0) is None
