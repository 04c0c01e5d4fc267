import math

import pytest

from creditzoo.eval.metrics import pass_at_k, summarize


def test_pass_at_k_hand_computed() -> None:
    # n=4 samples, c=1 correct: pass@1 = 1 − C(3,1)/C(4,1) = 1 − 3/4 = 0.25;
    # pass@2 = 1 − C(3,2)/C(4,2) = 1 − 3/6 = 0.5; pass@4 = 1 (n − c < k).
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert pass_at_k(4, 1, 4) == 1.0
    assert pass_at_k(4, 0, 4) == 0.0


def test_summarize_uses_problems_as_the_unit() -> None:
    # Per-problem means [1.0, 0.5, 0.0]: acc 0.5; sample std = sqrt((0.25+0+0.25)/2) = 0.5;
    # SE = 0.5 / sqrt(3) = 0.288675. pass@2 = mean(1, 1, 0) = 2/3.
    m = summarize([[True, True], [True, False], [False, False]], k=2)
    assert m["acc"] == pytest.approx(0.5)
    assert m["acc_se"] == pytest.approx(0.5 / math.sqrt(3))
    assert m["pass@2"] == pytest.approx(2 / 3)


def test_majority_vote_hand_computed() -> None:
    from creditzoo.eval.metrics import majority_correct

    # Answers 7, 7, 5 with 7 wrong → the majority (7) is wrong even though one sample is right.
    assert majority_correct([False, False, True], ["7", "7", "5"]) is False
    # Tie 5 vs 7 → the first seen (5) wins; no-answer samples do not vote.
    assert majority_correct([True, False, False], ["5", "7", None]) is True
    assert majority_correct([False, False], [None, None]) is False
    m = summarize([[True, False, False]], k=3, parsed=[["5", "7", "7"]])
    assert m["maj@3"] == 0.0 and m["pass@3"] == 1.0
