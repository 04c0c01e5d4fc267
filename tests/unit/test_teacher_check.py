"""The first-batch teacher check: AUROC of the teacher signal, confidence, warn / strict."""

import logging

import pytest
import torch

from creditzoo.errors import ConfigError
from creditzoo.providers import teacher_check
from creditzoo.providers.teacher_check import TeacherCheck, auroc, auroc_se, contrast, measure
from creditzoo.types import RolloutBatch


@pytest.fixture(autouse=True)
def _one_row_per_class_is_enough(monkeypatch) -> None:
    # The hand-made batches hold 2 correct and 2 wrong rows; pooling has its own tests.
    monkeypatch.setattr(teacher_check, "MIN_PER_CLASS", 1)
    monkeypatch.setattr(teacher_check, "MAX_AUROC_SE", 1.0)


def test_auroc_standard_error_hand_computed() -> None:
    # a = 0.75, 2 vs 2: Q1 = 0.75/1.25 = 0.6, Q2 = 2·0.5625/1.75 = 0.642857;
    # SE² = (0.1875 + (0.6 − 0.5625) + (0.642857 − 0.5625)) / 4 = 0.305357/4 → SE 0.27630.
    assert auroc_se(0.75, 2, 2) == pytest.approx(0.27630, abs=1e-5)
    assert auroc_se(1.0, 5, 50) == 0.0  # perfect separation: no spread
    assert auroc_se(0.9, 40, 400) < auroc_se(0.9, 8, 80)  # more rows, more precise


def test_an_imprecise_auroc_waits_for_more_rows(monkeypatch) -> None:
    # Δ correct {0.5, −1.5}, wrong {−1, −2}: 3 of 4 pairs → AUROC 0.75, SE 0.276 (above).
    batch = _batch([[-0.5, -0.5], [-2.5, -2.5], [-2.0, -2.0], [-3.0, 9.0]])
    monkeypatch.setattr(teacher_check, "MAX_AUROC_SE", 0.25)
    waiting = TeacherCheck({"positive": "answer"})
    assert waiting(batch, CORRECT) == {} and waiting.result is None
    monkeypatch.setattr(teacher_check, "MAX_AUROC_SE", 0.3)
    ready = TeacherCheck({"positive": "answer"})
    assert ready(batch, CORRECT)["teacher_check/positive/auroc"] == 0.75


def test_auroc_hand_computed() -> None:
    # Positives {3, 1}, negatives {2, 1}: pairs (3>2 ✓, 3>1 ✓, 1<2 ✗, 1=1 ½) → 2.5/4 = 0.625.
    scores = torch.tensor([3.0, 1.0, 2.0, 1.0])
    labels = torch.tensor([True, True, False, False])
    assert auroc(scores, labels) == pytest.approx(0.625)
    assert auroc(scores, torch.ones(4, dtype=torch.bool)) is None


def _batch(teacher: list[list[float]], neg: list[list[float]] | None = None) -> RolloutBatch:
    # 4 rows × 2 tokens; row 3's second token is padding. Student log-prob −1 everywhere.
    mask = torch.tensor([[True, True], [True, True], [True, True], [True, False]])
    extra = {}
    if neg is not None:
        extra = {
            "neg_teacher_logprobs": torch.tensor(neg)[:, None, :],
            "neg_mask": torch.tensor([[True], [True], [True], [False]]),
        }
    return RolloutBatch(
        rewards=torch.tensor([1.0, 1.0, 0.0, 0.0]),
        group_ids=torch.zeros(4, dtype=torch.long),
        response_mask=mask,
        logprobs=torch.full((4, 2), -1.0),
        teacher_logprobs=torch.tensor(teacher),
        **extra,
    )


CORRECT = torch.tensor([True, True, False, False])


def test_measure_positive_context() -> None:
    # Per-row mean teacher log-prob: −0.5, −0.25, −2, −3 (row 3: first token only); Δ = +1 on
    # correct rows' means −0.5+1 = 0.5, 0.75, wrong −1, −2 → every correct above every wrong.
    figures = measure(_batch([[-0.5, -0.5], [0.0, -0.5], [-2.0, -2.0], [-3.0, 9.0]]), CORRECT)
    pos = figures["positive"]
    assert pos["auroc"] == 1.0
    assert pos["teacher_logprob"] == pytest.approx((-0.5 - 0.25 - 2.0 - 3.0) / 4)
    assert pos["student_logprob"] == -1.0 and (pos["n_correct"], pos["n_wrong"]) == (2, 2)


def test_measure_contrast() -> None:
    # Contrast e = teacher − neg on rows with a negative (rows 0–2): 1, −1, 1 → correct rows
    # {1, −1} vs wrong {1}: pairs (1=1 ½, −1<1 0) → 0.25.
    teacher = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    neg = [[-1.0, -1.0], [1.0, 1.0], [-1.0, -1.0], [0.0, 0.0]]
    batch = _batch(teacher, neg)
    score, has = contrast(batch)
    assert has.tolist() == [True, True, True, False]
    torch.testing.assert_close(score[:3], torch.tensor([1.0, -1.0, 1.0]))
    assert measure(batch, CORRECT)["contrast"]["auroc"] == pytest.approx(0.25)


def test_no_check_without_both_outcomes() -> None:
    batch = _batch([[0.0, 0.0]] * 4)
    assert measure(batch, torch.ones(4, dtype=torch.bool)) is None
    check = TeacherCheck({"positive": "answer"})
    assert check(batch, torch.ones(4, dtype=torch.bool)) == {} and check.result is None


def test_warns_at_chance_and_strict_raises(caplog) -> None:
    noise = _batch([[-3.0, -3.0], [-3.0, -3.0], [-3.0, -3.0], [-3.0, -3.0]])  # Δ all equal: 0.5
    check = TeacherCheck({"positive": "solution"})
    with caplog.at_level(logging.WARNING, logger="creditzoo"):
        logged = check(noise, CORRECT)
    assert logged["teacher_check/positive/auroc"] == 0.5
    assert "context 'solution'" in caplog.text and "AUROC 0.50 < 0.6" in caplog.text
    assert "far less confident than the student (-3.00 vs -1.00" in caplog.text
    assert check.result["ok"] is False and check.result["positive"]["context"] == "solution"
    assert check(noise, CORRECT) == {}  # once per run
    with pytest.raises(ConfigError, match="teacher check failed: context 'solution'"):
        TeacherCheck({"positive": "solution"}, "strict")(noise, CORRECT)


def test_a_good_teacher_passes() -> None:
    check = TeacherCheck({"positive": "answer"}, "strict")
    check(_batch([[-0.5, -0.5], [0.0, -0.5], [-2.0, -2.0], [-1.5, 9.0]]), CORRECT)
    assert check.result["ok"] is True


def test_mode_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"teacher\.check must be one of warn, strict, off"):
        TeacherCheck({"positive": "answer"}, "loud")


def test_rows_without_their_context_are_left_out() -> None:
    # Row 1 (correct) had no valid context: without it, correct {0.5} vs wrong {−1, −2} → 1.0;
    # with it (Δ −3 on a correct row) the AUROC would be 0.5.
    batch = _batch([[-0.5, -0.5], [-4.0, -4.0], [-2.0, -2.0], [-3.0, 9.0]]).replace(
        teacher_mask=torch.tensor([True, False, True, True])
    )
    pos = measure(batch, CORRECT)["positive"]
    assert pos["auroc"] == 1.0 and (pos["n_correct"], pos["n_wrong"]) == (1, 2)


def test_rows_are_pooled_until_each_outcome_has_enough(monkeypatch) -> None:
    # 2 correct + 2 wrong rows per step, 3 per class needed → decided at the second step, over
    # the 8 pooled rows. Δ (student −1): correct {0.5, 0.75, −2, −2}, wrong {−1, −2, −2, −2}.
    # 16 pairs: 0.5 and 0.75 beat all four (8); each −2 loses to −1 and ties three −2 (1.5 each,
    # 3) → AUROC 11/16.
    monkeypatch.setattr(teacher_check, "MIN_PER_CLASS", 3)
    check = TeacherCheck({"positive": "answer"})
    first = _batch([[-0.5, -0.5], [0.0, -0.5], [-2.0, -2.0], [-3.0, 9.0]])
    second = _batch([[-3.0, -3.0], [-3.0, -3.0], [-3.0, -3.0], [-3.0, 9.0]]).replace(step=1)
    assert check(first, CORRECT) == {} and check.result is None
    logged = check(second, CORRECT)
    assert logged["teacher_check/positive/auroc"] == pytest.approx(11 / 16)
    assert check.result["batches"] == 2 and check.result["step"] == 1
    assert (check.result["positive"]["n_correct"], check.result["positive"]["n_wrong"]) == (4, 4)


def test_after_max_tries_the_check_uses_what_it_has(monkeypatch) -> None:
    monkeypatch.setattr(teacher_check, "MIN_PER_CLASS", 100)
    monkeypatch.setattr(teacher_check, "MAX_TRIES", 2)
    check = TeacherCheck({"positive": "answer"})
    batch = _batch([[-0.5, -0.5], [0.0, -0.5], [-2.0, -2.0], [-3.0, 9.0]])
    assert check(batch, CORRECT) == {}
    assert check(batch, CORRECT)["teacher_check/positive/auroc"] == 1.0
    assert check.result["batches"] == 2
