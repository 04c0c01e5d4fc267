"""Privileged contexts, teacher weights, and the teacher provider's scoring passes."""

from dataclasses import replace

import pytest
import torch

from creditzoo import TeacherSpec
from creditzoo.data.arith import test_split as arith_split
from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.errors import UnknownNameError
from creditzoo.models.factory import build_model
from creditzoo.providers.base import StepInputs
from creditzoo.providers.contexts import (
    CONTEXTS,
    DEFAULT_TEMPLATES,
    NEGATIVE_CONTEXTS,
    GroupOutcome,
)
from creditzoo.providers.policy import score_passes
from creditzoo.providers.teacher import TeacherProvider, TeacherWeights
from creditzoo.rollout.hf import HFSampler
from creditzoo.verify import VerifyResult

PROBLEM = Problem("p0", "Compute 2+3.", "5", "2+3=5. \\boxed{5}")


def _verdict(correct: bool, parsed: str | None, reward: float | None = None) -> VerifyResult:
    r = float(correct) if reward is None else reward
    return VerifyResult(
        reward=r, correct=correct, status="ok" if parsed else "no_answer", parsed=parsed
    )


class _Plain:
    chat_template = None


def _positive(name: str, group: GroupOutcome, row: int) -> str:
    return CONTEXTS.get(name)(group, row, DEFAULT_TEMPLATES)


def _negatives(name: str, group: GroupOutcome, row: int, k: int) -> list[str]:
    return NEGATIVE_CONTEXTS.get(name)(group, row, k, DEFAULT_TEMPLATES)


def test_answer_and_solution_contexts() -> None:
    group = GroupOutcome(PROBLEM, ["a", "b"], [_verdict(True, "5"), _verdict(False, "6")])
    assert _positive("answer", group, 0) == "Compute 2+3. (Reference answer: 5)"
    assert _positive("solution", group, 1) == "Compute 2+3. (Reference solution: 2+3=5. \\boxed{5})"
    with pytest.raises(UnknownNameError, match="unknown teacher context 'nope'"):
        CONTEXTS.get("nope")


def test_correct_sibling_is_never_the_row_itself() -> None:
    texts = ["r0", "r1", "r2", "r3"]
    verdicts = [
        _verdict(True, "5"),
        _verdict(False, "6"),
        _verdict(True, "5"),
        _verdict(False, "7"),
    ]
    group = GroupOutcome(PROBLEM, texts, verdicts)
    # Row 0's only other correct sibling is row 2 and vice versa; wrong rows draw one of the two.
    assert _positive("correct_sibling", group, 0).endswith("(Reference solution: r2)")
    assert _positive("correct_sibling", group, 2).endswith("(Reference solution: r0)")
    assert _positive("correct_sibling", group, 1)[-3:-1] in {"r0", "r2"}
    # A lone correct response has no other correct sibling: no context (the row is dropped).
    lone = GroupOutcome(PROBLEM, ["r0", "r1"], [_verdict(True, "5"), _verdict(False, "6")])
    assert _positive("correct_sibling", lone, 0) is None


def test_negatives_worst_first_distinct_and_not_own() -> None:
    # Wrong answers: 6 (twice, reward 0), 7 (once, reward 0), 8 (once, partial reward 0.5).
    verdicts = [
        _verdict(True, "5"),
        _verdict(False, "6"),
        _verdict(False, "7"),
        _verdict(False, "6"),
        _verdict(False, "8", reward=0.5),
        _verdict(False, None),  # no parsed answer: cannot be a context
    ]
    group = GroupOutcome(PROBLEM, ["x"] * 6, verdicts)
    name = "wrong_answer_distinct"
    answers = [p.split(": ")[1].rstrip(")") for p in _negatives(name, group, 0, 4)]
    assert answers == ["6", "7", "8"]  # lowest reward first, then most frequent
    # Row 2's own answer 7 is excluded; 6 still comes from rows 1 and 3.
    own = _negatives(name, group, 2, 4)
    assert [p.split(": ")[1].rstrip(")") for p in own] == ["6", "8"]
    assert len(_negatives(name, group, 0, 1)) == 1


def test_teacher_weight_modes() -> None:
    policy = torch.nn.Linear(2, 1)
    live, fixed = TeacherWeights(policy, "live"), TeacherWeights(policy, "fixed")
    snap, ema = (
        TeacherWeights(policy, "snapshot", sync_every=2),
        TeacherWeights(policy, "ema", ema_decay=0.5),
    )
    start = policy.weight.detach().clone()
    with torch.no_grad():
        policy.weight.add_(1.0)
    for t in (live, fixed, snap, ema):
        t.after_step(1)
    assert live.model is policy
    torch.testing.assert_close(fixed.model.weight, start)
    torch.testing.assert_close(snap.model.weight, start)  # step 1: not a sync step
    torch.testing.assert_close(ema.model.weight, start + 0.5)  # 0.5·θ_T + 0.5·(θ_T + 1)
    snap.after_step(2)
    torch.testing.assert_close(snap.model.weight, policy.weight)
    assert not any(p.requires_grad for p in fixed.model.parameters())
    with pytest.raises(ValueError, match=r"teacher\.weights"):
        TeacherWeights(policy, "frozen")


@pytest.fixture(scope="module")
def tiny():
    model, tokenizer = build_model("tiny")
    return model, tokenizer, PromptRenderer(tokenizer)


def test_teacher_uses_the_reference_answer(tiny) -> None:
    """The warm-started tiny model puts more mass on correct answers when shown the answer, and
    less on wrong ones: Δ = teacher − student separates correct from wrong responses."""
    model, tokenizer, render = tiny
    problems = arith_split("id", 24)
    sampler = HFSampler(model, tokenizer)
    torch.manual_seed(0)
    group_size = 4
    seqs = sampler.generate(
        [render(p) for p in problems for _ in range(group_size)], max_new_tokens=64
    )
    from creditzoo.verify import MathVerifier

    with MathVerifier() as verifier:
        verdicts = verifier(seqs.texts, [p.answer for p in problems for _ in range(group_size)])
    spec = TeacherSpec(context="answer", weights="fixed", negatives=1)
    teacher = TeacherProvider(TeacherWeights(model, "fixed"), spec, render)
    out = teacher.score(
        StepInputs(seqs, problems, group_size, verdicts),
        frozenset({"teacher_logprobs", "teacher_entropies", "neg_teacher_logprobs", "neg_mask"}),
    )
    student, _ = score_passes(model, seqs, temperature=1.0, micro_batch_size=64, with_entropy=False)
    m = seqs.response_mask.float()
    delta = ((out["teacher_logprobs"] - student) * m).sum(1) / m.sum(1)
    correct = torch.tensor([v.correct for v in verdicts])
    assert correct.any() and (~correct).any()
    assert delta[correct].mean() > delta[~correct].mean() + 0.05
    assert out["teacher_entropies"].shape == seqs.response_mask.shape
    assert out["neg_teacher_logprobs"].shape == (len(verdicts), 1, seqs.response_mask.shape[1])
    # Rows with a wrong-answer context got a pass; rows without one are zero and masked out.
    assert torch.all(out["neg_teacher_logprobs"][~out["neg_mask"]] == 0)
    assert out["neg_mask"].any()


def test_batched_teacher_passes_equal_separate_passes(tiny) -> None:
    model, tokenizer, render = tiny
    problems = arith_split("id", 3)
    seqs = HFSampler(model, tokenizer).generate(
        [render(p) for p in problems for _ in range(2)], max_new_tokens=32, temperature=1.0
    )
    verdicts = [_verdict(i % 2 == 0, str(i)) for i in range(6)]
    weights = TeacherWeights(model, "live")
    spec = TeacherSpec(context="answer", weights="live", negatives=1)
    together = TeacherProvider(weights, spec, render, micro_batch_size=64)
    apart = TeacherProvider(weights, spec, render, micro_batch_size=1)
    fields = frozenset({"teacher_logprobs", "neg_teacher_logprobs", "neg_mask"})
    a = together.score(StepInputs(seqs, problems, 2, verdicts), fields)
    b = apart.score(StepInputs(seqs, problems, 2, verdicts), fields)
    torch.testing.assert_close(a["teacher_logprobs"], b["teacher_logprobs"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        a["neg_teacher_logprobs"], b["neg_teacher_logprobs"], atol=1e-5, rtol=1e-5
    )
    assert torch.equal(a["neg_mask"], b["neg_mask"])
    # Scored under inference mode, returned as ordinary tensors a training graph may save.
    assert not any(a[k].is_inference() for k in fields)


def test_negatives_mirror_the_correct_sibling_template() -> None:
    verdicts = [_verdict(True, "5"), _verdict(False, "6"), _verdict(False, "7")]
    group = GroupOutcome(PROBLEM, ["r0", "r1", "r2"], verdicts)
    negs = _negatives("wrong_sibling", group, 0, 2)
    assert sorted(negs) == [
        "Compute 2+3. (Reference solution: r1)",
        "Compute 2+3. (Reference solution: r2)",
    ]


def test_rows_without_a_positive_context_are_reported(tiny) -> None:
    """A positive context returning None: the row is scored under the answer, and False in
    teacher_mask."""
    model, tokenizer, render = tiny
    problems = arith_split("id", 1)
    seqs = HFSampler(model, tokenizer).generate([render(problems[0])] * 3, max_new_tokens=8)
    seqs = replace(seqs, texts=["a", "b", "a"])  # rows 0 and 2: the same text
    # Row 1 (wrong) has correct siblings 0 and 2; rows 0 and 2 have only a copy of themselves.
    verdicts = [_verdict(True, "5"), _verdict(False, "6"), _verdict(True, "5")]
    spec = TeacherSpec(context="correct_sibling", weights="live")
    teacher = TeacherProvider(TeacherWeights(model, "live"), spec, render)
    out = teacher.score(
        StepInputs(seqs, problems, 3, verdicts), frozenset({"teacher_logprobs", "teacher_mask"})
    )
    assert out["teacher_mask"].tolist() == [False, True, False]
    answer = TeacherProvider(TeacherWeights(model, "live"), replace(spec, context="answer"), render)
    plain = answer.score(StepInputs(seqs, problems, 3, verdicts), frozenset({"teacher_logprobs"}))
    torch.testing.assert_close(out["teacher_logprobs"][0], plain["teacher_logprobs"][0])


def test_a_new_context_is_a_registered_function(tiny) -> None:
    """A plugin's context needs no edit of creditzoo: register it and name it in a spec."""
    model, tokenizer, render = tiny

    @CONTEXTS.register("_shout_answer")
    def shout(group: GroupOutcome, row: int, templates) -> str:
        return f"{group.problem.problem} (ANSWER {group.problem.answer})"

    try:
        problems = arith_split("id", 2)
        seqs = HFSampler(model, tokenizer).generate([render(p) for p in problems], max_new_tokens=8)
        spec = TeacherSpec(context="_shout_answer", weights="live")
        teacher = TeacherProvider(TeacherWeights(model, "live"), spec, render)
        verdicts = [_verdict(False, None)] * 2
        out = teacher.score(
            StepInputs(seqs, problems, 1, verdicts), frozenset({"teacher_logprobs"})
        )
        assert out["teacher_logprobs"].shape == seqs.response_mask.shape
    finally:
        CONTEXTS.unregister("_shout_answer")


def test_ema_decay_is_the_algorithms_unless_configured(tiny) -> None:
    # SDPO's reference EMA: teacher_update_rate 0.05, i.e. decay 0.95 (TeacherSpec.ema_decay);
    # teacher.ema_decay overrides it; an algorithm that says nothing keeps 0.99.
    from creditzoo import build_algorithm
    from creditzoo.providers import build_providers

    model, _, render = tiny

    def decay(name: str, **teacher) -> float:
        providers = build_providers(
            build_algorithm(name), model, render, temperature=1.0, micro_batch_size=8,
            teacher={"weights": "ema", **teacher},
        )  # fmt: skip
        return next(p for p in providers if p.name == "teacher").weights.ema_decay

    assert decay("sdpo") == 0.95
    assert decay("sdpo", ema_decay=None) == 0.95
    assert decay("sdpo", ema_decay=0.5) == 0.5
    assert decay("rlsd") == 0.99
