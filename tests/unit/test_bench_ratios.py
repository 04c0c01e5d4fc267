"""benchmarks/bench_ratios.py: every bench ratio from one definition, headline inside its range."""

from __future__ import annotations

import pytest
from conftest import load_benchmark

ratios = load_benchmark("bench_ratios")


def test_uneven_rounds_where_pooled_medians_leave_the_range():
    # Round 1: num [1, 1, 1] / den [1, 1] -> 1 / 1 = 1.0; round 2: num [3, 3] / den [3, 3, 3]
    # -> 3 / 3 = 1.0. Both rounds say 1.0, yet the old headline, median of the pooled num
    # [1, 1, 1, 3, 3] = 1 over median of the pooled den [1, 1, 3, 3, 3] = 3, said 0.33 (1.0–1.0).
    r = ratios.paired_ratio([[1, 1, 1], [3, 3]], [[1, 1], [3, 3, 3]])
    assert r["per_round"] == [1.0, 1.0]
    assert (r["median"], r["min"], r["max"]) == (1.0, 1.0, 1.0)


def test_three_rounds_hand_computed():
    # Round medians: num 2, 5, 8; den 2, 4, 4 -> per-round ratios 1.0, 1.25, 2.0.
    num = [[1.0, 2.0, 9.0], [5.0, 4.0, 6.0], [8.0]]
    den = [[2.0, 2.0, 2.0], [4.0, 3.0, 5.0], [4.0, 4.0]]
    r = ratios.paired_ratio(num, den)
    assert r["per_round"] == [1.0, 1.25, 2.0]
    assert r["median"] == 1.25
    assert (r["min"], r["max"]) == (1.0, 2.0)
    assert r["min"] <= r["median"] <= r["max"]


def test_two_rounds_median_is_their_mean_and_one_round_is_degenerate():
    r = ratios.paired_ratio([[3.0], [6.0]], [[2.0], [4.0, 4.0]])  # 1.5 and 1.5
    assert (r["median"], r["min"], r["max"]) == (1.5, 1.5, 1.5)
    r = ratios.paired_ratio([[2.0], [9.0]], [[2.0], [6.0]])  # 1.0 and 1.5
    assert r["median"] == pytest.approx(1.25)
    r = ratios.paired_ratio([[4.0, 6.0]], [[2.0, 2.0]])  # one round: min = max = median
    assert (r["median"], r["min"], r["max"]) == (2.5, 2.5, 2.5)


def test_rounds_must_pair_up():
    with pytest.raises(ValueError):
        ratios.paired_ratio([[1.0], [2.0]], [[1.0]])
    with pytest.raises(ValueError):
        ratios.summary([])
