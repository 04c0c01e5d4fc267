"""Student-t statistics for the leaderboard: intervals over seeds and paired differences.

No scipy (not a dependency): the t distribution's CDF is the regularized incomplete beta
function, evaluated with its continued fraction (Numerical Recipes §6.4, modified Lentz), which
is accurate to ~1e-12 here; quantiles invert the CDF by bisection.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

_EPS = 1e-15
_TINY = 1e-300


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (converges fast for x < (a + 1)/(a + b + 2))."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1.0 - x) / b  # the symmetric relation converges there


def t_sf2(t: float, df: float) -> float:
    """Two-sided tail P(|T| ≥ |t|) of Student's t with ``df`` degrees of freedom."""
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t)."""
    tail = 0.5 * t_sf2(t, df)
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T ≤ t) = p, for 0.5 ≤ p < 1 (bisection on the CDF to ~1e-12)."""
    if not 0.5 <= p < 1.0:
        raise ValueError(f"t_quantile needs 0.5 ≤ p < 1, got {p}")
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return (lo + hi) / 2.0


def mean_ci(values: list[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95% Student-t interval (None with fewer than two values)."""
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, None
    n = len(values)
    return m, t_quantile(0.975, n - 1) * statistics.stdev(values) / math.sqrt(n)


@dataclass(frozen=True)
class Paired:
    """``x − ref`` over the seeds both have: mean, 95% interval, two-sided p, detectable size."""

    n: int  # pairs (seeds both algorithms ran)
    mean: float
    ci: float | None  # half-width of the 95% t interval; None below two pairs
    p: float | None  # two-sided paired t-test; None below two pairs
    mdd: float | None  # minimum detectable difference (α = 0.05 two-sided, power 0.8)

    @property
    def significant(self) -> bool:
        return self.p is not None and self.p < 0.05


def paired(x: dict[int, float], ref: dict[int, float]) -> Paired | None:
    """Paired t statistics of ``x[s] − ref[s]`` over the seeds ``s`` in both (None if none).

    With d the n differences, sd their sample standard deviation and se = sd/√n:
    interval mean ± t_{0.975,n−1}·se; p = P(|T_{n−1}| ≥ |mean|/se); and the minimum detectable
    difference MDD = (t_{0.975,n−1} + t_{0.8,n−1})·se — the true mean difference a two-sided
    test at α = 0.05 detects with 80% power at this n and this spread (normal-shift
    approximation with t quantiles). All differences equal: se = 0, so p is 0 for a nonzero
    mean and 1 for a zero one.
    """
    seeds = sorted(set(x) & set(ref))
    diffs = [x[s] - ref[s] for s in seeds]
    if not diffs:
        return None
    n, mean = len(diffs), statistics.fmean(diffs)
    if n < 2:
        return Paired(n, mean, None, None, None)
    se = statistics.stdev(diffs) / math.sqrt(n)
    t975, t80 = t_quantile(0.975, n - 1), t_quantile(0.8, n - 1)
    # All differences equal (se = 0): certain when the mean is nonzero, no evidence when zero.
    p = (1.0 if mean == 0.0 else 0.0) if se == 0.0 else t_sf2(mean / se, n - 1)
    return Paired(n, mean, t975 * se, p, (t975 + t80) * se)
