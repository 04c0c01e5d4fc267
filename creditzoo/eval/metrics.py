"""Per-problem sample outcomes → benchmark metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence


def pass_at_k(num_samples: int, num_correct: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021, arXiv 2107.03374): 1 − C(n−c, k) / C(n, k)."""
    if num_samples - num_correct < k:
        return 1.0
    return 1.0 - math.comb(num_samples - num_correct, k) / math.comb(num_samples, k)


def majority_correct(correct: Sequence[bool], parsed: Sequence[str | None]) -> bool:
    """maj@k for one problem: is the most frequent parsed answer correct? Ties go to the answer
    seen first; samples without an answer do not vote."""
    votes: dict[str, int] = {}
    first: dict[str, bool] = {}
    for ok, answer in zip(correct, parsed, strict=True):
        if answer is None:
            continue
        votes[answer] = votes.get(answer, 0) + 1
        first.setdefault(answer, ok)
    if not votes:
        return False
    best = max(votes.values())
    winner = next(a for a in votes if votes[a] == best)
    return first[winner]


def summarize(
    correct: Sequence[Sequence[bool]],
    k: int,
    parsed: Sequence[Sequence[str | None]] | None = None,
) -> dict[str, float]:
    """avg@k with its standard error over problems, pass@k, and maj@k when answers are given.

    The standard error treats problems as the unit (samples of one problem are correlated):
    SE = std_i(mean_j correct_ij) / sqrt(n_problems).
    """
    n = len(correct)
    if n == 0:
        return {"acc": 0.0, "acc_se": 0.0, f"pass@{k}": 0.0, "n": 0, "k": k}
    per_problem = [sum(c) / len(c) for c in correct]
    mean = sum(per_problem) / n
    var = sum((p - mean) ** 2 for p in per_problem) / (n - 1) if n > 1 else 0.0
    out = {
        "acc": mean,
        "acc_se": math.sqrt(var / n),
        f"pass@{k}": sum(pass_at_k(len(c), sum(c), k) for c in correct) / n,
        "n": n,
        "k": k,
    }
    if parsed is not None:
        votes = [majority_correct(c, a) for c, a in zip(correct, parsed, strict=True)]
        out[f"maj@{k}"] = sum(votes) / n
    return out
