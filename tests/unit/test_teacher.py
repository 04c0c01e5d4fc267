"""Privileged contexts, teacher weights, and the teacher's scoring passes."""

import pytest
import torch

from creditzoo.data.arith import test_split as arith_split
from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.models.factory import build_model
from creditzoo.rollout.hf import HFSampler
from creditzoo.rollout.teacher import ContextBuilder, Teacher, TeacherWeights, _Group
from creditzoo.verify import VerifyResult

PROBLEM = Problem("p0", "Compute 2+3.", "5", "2+3=5. \\boxed{5}")


def _verdict(correct: bool, parsed: str | None, reward: float | None = None) -> VerifyResult:
    r = float(correct) if reward is None else reward
    return VerifyResult(
        reward=r, correct=correct, status="ok" if parsed else "no_answer", parsed=parsed
    )


class _Plain:
    chat_template = None


def _builder() -> ContextBuilder:
    return ContextBuilder(PromptRenderer(_Plain()))


def test_answer_and_solution_contexts() -> None:
    group = _Group(PROBLEM, range(0, 2), ["a", "b"], [_verdict(True, "5"), _verdict(False, "6")])
    b = _builder()
    assert b.positive("answer", group, 0) == "Compute 2+3. (Reference answer: 5)"
    assert (
        b.positive("solution", group, 1) == "Compute 2+3. (Reference solution: 2+3=5. \\boxed{5})"
    )
    with pytest.raises(ValueError, match="unknown teacher context"):
        b.positive("nope", group, 0)


def test_correct_sibling_is_never_the_row_itself() -> None:
    texts = ["r0", "r1", "r2", "r3"]
    verdicts = [
        _verdict(True, "5"),
        _verdict(False, "6"),
        _verdict(True, "5"),
        _verdict(False, "7"),
    ]
    group = _Group(PROBLEM, range(4, 8), texts, verdicts)  # rows 4..7 of a batch
    b = _builder()
    # Row 4 (correct) gets the next correct sibling, row 6; row 6 gets row 4; wrong rows get the
    # next correct one cyclically.
    assert b.positive("correct_sibling", group, 4).endswith("(Reference solution: r2)")
    assert b.positive("correct_sibling", group, 6).endswith("(Reference solution: r0)")
    assert b.positive("correct_sibling", group, 5).endswith("(Reference solution: r2)")
    # A lone correct response has no other correct sibling: fall back to the reference answer.
    lone = _Group(PROBLEM, range(0, 2), ["r0", "r1"], [_verdict(True, "5"), _verdict(False, "6")])
    assert b.positive("correct_sibling", lone, 0) == "Compute 2+3. (Reference answer: 5)"


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
    group = _Group(PROBLEM, range(0, 6), ["x"] * 6, verdicts)
    b = _builder()
    answers = [p.split(": ")[1].rstrip(")") for p in b.negatives(group, 0, k=4)]
    assert answers == ["6", "7", "8"]  # lowest reward first, then most frequent
    # Row 2's own answer 7 is excluded; 6 still comes from rows 1 and 3.
    assert [p.split(": ")[1].rstrip(")") for p in b.negatives(group, 2, k=4)] == ["6", "8"]
    assert len(b.negatives(group, 0, k=1)) == 1


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
    teacher = Teacher(
        TeacherWeights(model, "fixed"), ContextBuilder(render), context="answer", num_negatives=1
    )
    out = teacher.score(
        seqs,
        problems,
        group_size,
        verdicts,
        {"teacher_logprobs", "teacher_entropies", "neg_teacher_logprobs", "neg_mask"},
    )
    from creditzoo.rollout.scorer import BatchScorer

    student = BatchScorer(model).score(seqs, set())["logprobs"]
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
    together = Teacher(weights, ContextBuilder(render), context="answer", micro_batch_size=64)
    apart = Teacher(weights, ContextBuilder(render), context="answer", micro_batch_size=1)
    fields = {"teacher_logprobs", "neg_teacher_logprobs", "neg_mask"}
    a = together.score(seqs, problems, 2, verdicts, fields)
    b = apart.score(seqs, problems, 2, verdicts, fields)
    torch.testing.assert_close(a["teacher_logprobs"], b["teacher_logprobs"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        a["neg_teacher_logprobs"], b["neg_teacher_logprobs"], atol=1e-5, rtol=1e-5
    )
    assert torch.equal(a["neg_mask"], b["neg_mask"])
    # Scored under inference mode, returned as ordinary tensors a training graph may save.
    assert not any(a[k].is_inference() for k in fields)


def test_negatives_mirror_the_correct_sibling_template() -> None:
    verdicts = [_verdict(True, "5"), _verdict(False, "6"), _verdict(False, "7")]
    group = _Group(PROBLEM, range(0, 3), ["r0", "r1", "r2"], verdicts)
    negs = _builder().negatives(group, 0, k=2, context="correct_sibling")
    assert negs == [
        "Compute 2+3. (Reference solution: r1)",
        "Compute 2+3. (Reference solution: r2)",
    ]
