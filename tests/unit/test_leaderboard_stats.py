"""The leaderboard's t statistics against values computed by hand (closed forms where the t
distribution has one: df = 1 is Cauchy, df = 2 has CDF ½ + t / (2√(2 + t²)))."""

import math

import pytest

from creditzoo.leaderboard.stats import betainc, mean_ci, paired, t_cdf, t_quantile, t_sf2


def test_incomplete_beta_hand_values() -> None:
    # I_0.4(2, 3) = P(Binomial(4, 0.4) ≥ 2) = 6·0.4²·0.6² + 4·0.4³·0.6 + 0.4⁴
    #             = 0.3456 + 0.1536 + 0.0256 = 0.5248.
    assert betainc(2, 3, 0.4) == pytest.approx(0.5248, abs=1e-12)
    # I_x(½, ½) = (2/π)·asin(√x), the arcsine law; both branches of the continued fraction.
    for x in (0.1, 0.3, 0.7, 0.95):
        assert betainc(0.5, 0.5, x) == pytest.approx(2 / math.pi * math.asin(math.sqrt(x)))
    assert betainc(3, 4, 0.0) == 0.0 and betainc(3, 4, 1.0) == 1.0


def test_t_distribution_closed_forms() -> None:
    # df = 1 (Cauchy): t_{0.975} = tan(0.475π) = 12.7062; P(|T| ≥ 1) = ½.
    assert t_quantile(0.975, 1) == pytest.approx(math.tan(0.475 * math.pi), rel=1e-10)
    assert t_sf2(1.0, 1) == pytest.approx(0.5, abs=1e-12)
    # df = 2: P(|T| ≥ t) = 1 − t/√(2 + t²) → at t = 1: 1 − 1/√3 = 0.42265;
    # quantile t_p = (2p − 1)·√(2 / (1 − (2p − 1)²)): t_{0.975} = 0.95·√(2/0.0975) = 4.30265,
    # t_{0.8} = 0.6·√(2/0.64) = 1.06066.
    assert t_sf2(1.0, 2) == pytest.approx(1 - 1 / math.sqrt(3), abs=1e-12)
    assert t_quantile(0.975, 2) == pytest.approx(0.95 * math.sqrt(2 / 0.0975), rel=1e-10)
    assert t_quantile(0.8, 2) == pytest.approx(0.6 * math.sqrt(2 / 0.64), rel=1e-10)
    # Table values (4 df): t_{0.975} = 2.776, t_{0.8} = 0.941; large df tends to 1.960.
    assert t_quantile(0.975, 4) == pytest.approx(2.776445, abs=1e-6)
    assert t_quantile(0.8, 4) == pytest.approx(0.940965, abs=1e-6)
    assert t_quantile(0.975, 10_000) == pytest.approx(1.960, abs=1e-3)
    assert t_cdf(-1.0, 2) == pytest.approx((1 - 1 / math.sqrt(3)) / 2)
    with pytest.raises(ValueError):
        t_quantile(0.3, 2)


def test_mean_ci_hand_computed() -> None:
    # [0.3, 0.4, 0.5]: mean 0.4, sample sd 0.1, t(0.975, df=2) = 4.30265 → 4.30265·0.1/√3 = 0.24841.
    m, ci = mean_ci([0.3, 0.4, 0.5])
    assert m == pytest.approx(0.4) and ci == pytest.approx(0.24841377, abs=1e-8)
    assert mean_ci([0.7]) == (0.7, None)


def test_paired_by_seed_hand_computed() -> None:
    # Seeds 0–2 in both (seed 3 only in x, seed 9 only in the reference: dropped).
    # d = [0.0, 0.1, 0.2]: mean 0.1, sd 0.1, se = 0.1/√3 = 0.057735, t = √3 with df 2.
    # CI: 4.30265·0.057735 = 0.24841; p = 1 − √3/√(2+3) = 1 − 0.774597 = 0.225403;
    # MDD = (4.30265 + 1.06066)·0.057735 = 0.309651.
    x = {0: 0.4, 1: 0.5, 2: 0.6, 3: 0.9}
    ref = {0: 0.4, 1: 0.4, 2: 0.4, 9: 0.1}
    d = paired(x, ref)
    assert d is not None and d.n == 3
    assert d.mean == pytest.approx(0.1)
    assert d.ci == pytest.approx(0.24841377, abs=1e-7)
    assert d.p == pytest.approx(1 - math.sqrt(3 / 5), abs=1e-9)
    assert d.mdd == pytest.approx(0.30965101, abs=1e-7)
    assert not d.significant
    # Five seeds, d = [0.02, 0.03, 0.04, 0.05, 0.06]: mean 0.04, sd 0.015811, se 0.0070711,
    # t = √32 = 5.6569 with df 4, where F(t) = ½ + (3/8)·u·(1 − t²/(12(1 + t²/4))), u =
    # t/√(1 + t²/4) = 5.6569/3 = 1.885618: F = ½ + 0.375·1.885618·(1 − 32/108) = 0.997594, so
    # p = 2·(1 − F) = 0.0048127; CI 2.776445·0.0070711 = 0.019632.
    five = paired({s: 0.3 + 0.01 * s for s in range(5)}, {s: 0.28 for s in range(5)})
    assert five is not None and five.significant
    assert five.ci == pytest.approx(0.0196324, abs=1e-6)
    assert five.p == pytest.approx(0.0048127, abs=1e-6)


def test_paired_edge_cases() -> None:
    assert paired({0: 0.3}, {1: 0.3}) is None  # no common seed
    one = paired({0: 0.5}, {0: 0.3})
    assert one is not None and one.n == 1 and one.ci is None and one.p is None
    same = paired({0: 0.5, 1: 0.5}, {0: 0.5, 1: 0.5})
    assert same is not None and same.p == 1.0 and same.mdd == 0.0
    shifted = paired({0: 0.75, 1: 0.5}, {0: 0.5, 1: 0.25})  # d = 0.25 exactly, twice
    assert shifted is not None and shifted.p == 0.0 and shifted.significant
