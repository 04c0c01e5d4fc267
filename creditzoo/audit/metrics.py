"""Credit metrics against the known first error (research/credit-audit.md), with bootstrap CIs.

Blame b_t = −Â_t, the coefficient the loss puts on −∇log π(y_t): positive blame pushes the token
down. Token sets of a wrong response with a located first error: P (the correct prefix, label 1),
E (the first wrong step, label 0), S (after it, label −1). Only the first error is scored: later
steps may be locally right on wrong inputs, so S is no ground truth.

Every metric is a per-response value, macro-averaged over responses; its 95% interval is a
percentile bootstrap over groups (prompts), so that the responses of one prompt move together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from creditzoo.process.steps import LABEL_ERROR, LABEL_OTHER, LABEL_PREFIX

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0


def first_error_auroc(blame: np.ndarray, labels: np.ndarray) -> float | None:
    """P(b_e > b_p) + ½·P(b_e = b_p) over all pairs e ∈ E, p ∈ P; None without both sets.

    Uniform credit (GRPO) ties every pair: exactly 0.5."""
    e, p = blame[labels == LABEL_ERROR], blame[labels == LABEL_PREFIX]
    if not len(e) or not len(p):
        return None
    diff = e[:, None] - p[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def top1_localisation(blame: np.ndarray, labels: np.ndarray) -> float | None:
    """|argmax b ∩ E| / |argmax b|: the chance that the most blamed token, ties broken at
    random, lies in the first wrong step. None without a located error."""
    error = labels == LABEL_ERROR
    if not error.any():
        return None
    top = blame == blame.max()
    return float((top & error).sum() / top.sum())


def error_gap(blame: np.ndarray, labels: np.ndarray, advantage: float) -> float | None:
    """(mean_E b − mean_P b) / |A_i|: how much more the wrong step is blamed than the correct
    prefix, in units of the response's outcome advantage. None without P, E or a non-zero A_i."""
    e, p = blame[labels == LABEL_ERROR], blame[labels == LABEL_PREFIX]
    if not len(e) or not len(p) or advantage == 0:
        return None
    return float((e.mean() - p.mean()) / abs(advantage))


def negative_shares(blame: np.ndarray, labels: np.ndarray) -> tuple[float, float, float] | None:
    """Shares of the response's negative credit (Σ max(b, 0)) on P, E and S; None when the
    response gets no negative credit."""
    mass = np.maximum(blame, 0.0)
    total = mass.sum()
    if total <= 0:
        return None
    return tuple(  # type: ignore[return-value]
        float(mass[labels == label].sum() / total)
        for label in (LABEL_PREFIX, LABEL_ERROR, LABEL_OTHER)
    )


@dataclass(frozen=True)
class Response:
    """What the metrics read of one response (a line of ``tokens.jsonl.gz``)."""

    group: int
    correct: bool
    # Wrong by the verifier and the step checker, its first error located, and blamed by the
    # outcome (A_i < 0: a sibling is correct). Every algorithm is scored on this same set;
    # all-wrong groups, where outcome methods give no credit at all, count in ``coverage``.
    scored: bool
    labels: np.ndarray
    advantage: float  # the outcome advantage A_i that normalises the gap


# name → (which responses, per-response value). The order is the report's column order.
Metric = Callable[[np.ndarray, Response], "float | None"]


def _shares(i: int) -> Metric:
    def share(b: np.ndarray, r: Response) -> float | None:
        s = negative_shares(b, r.labels) if r.scored else None
        return None if s is None else s[i]

    return share


METRICS: dict[str, Metric] = {
    "auroc": lambda b, r: first_error_auroc(b, r.labels) if r.scored else None,
    "top1": lambda b, r: top1_localisation(b, r.labels) if r.scored else None,
    "gap": lambda b, r: error_gap(b, r.labels, r.advantage) if r.scored else None,
    "neg_prefix": _shares(0),
    "neg_error": _shares(1),
    "neg_suffix": _shares(2),
    "neg_on_correct": lambda b, r: float((b > 0).mean()) if r.correct else None,
    "coverage": lambda b, r: None if r.correct else float((b != 0).any()),
}
METRIC_HELP = {
    "auroc": "first-error AUROC of blame, wrong step vs correct prefix (0.5 = no localisation)",
    "top1": "chance that the most blamed token lies in the first wrong step (ties split)",
    "gap": "(mean blame on the wrong step − on the prefix) / |A|",
    "neg_prefix": "share of a wrong response's negative credit on its correct prefix",
    "neg_error": "… on the first wrong step",
    "neg_suffix": "… after it",
    "neg_on_correct": "fraction of a correct response's tokens that get negative credit",
    "coverage": "fraction of wrong responses that get any non-zero credit",
}


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    n: int  # responses it averages

    def as_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}


def evaluate(
    blames: Sequence[np.ndarray | None], responses: Sequence[Response], num_groups: int
) -> dict[str, Estimate | None]:
    """Every metric of one credit map (a blame vector per response, None where the map does
    not cover it) with its bootstrap CI over the groups."""
    weights = _bootstrap_weights(num_groups)
    out: dict[str, Estimate | None] = {}
    for name, metric in METRICS.items():
        sums, counts = np.zeros(num_groups), np.zeros(num_groups)
        for b, r in zip(blames, responses, strict=True):
            value = None if b is None else metric(b, r)
            if value is not None:
                sums[r.group] += value
                counts[r.group] += 1
        n = int(counts.sum())
        if n == 0:
            out[name] = None
            continue
        boot_counts = weights @ counts
        boot = (weights @ sums)[boot_counts > 0] / boot_counts[boot_counts > 0]
        low, high = np.percentile(boot, [2.5, 97.5])
        out[name] = Estimate(_r(sums.sum() / n), _r(low), _r(high), n)
    return out


def _bootstrap_weights(num_groups: int) -> np.ndarray:
    """``[B, G]`` how often each group is drawn in each bootstrap resample (seeded)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = rng.integers(0, num_groups, size=(BOOTSTRAP_SAMPLES, num_groups))
    return np.stack([np.bincount(d, minlength=num_groups) for d in draws]).astype(float)


def _r(x: float) -> float:
    return round(float(x), 4)


def blame_by_offset(
    blames: Sequence[np.ndarray], responses: Sequence[Response], span: int = 12
) -> dict[int, float]:
    """Mean b_t / |A_i| at each token offset from the first wrong step's first token
    (−span … +span), over scored responses."""
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for b, r in zip(blames, responses, strict=True):
        if b is None or not r.scored:
            continue
        start = int(np.argmax(r.labels == LABEL_ERROR))
        for t in range(max(0, start - span), min(len(b), start + span + 1)):
            sums[t - start] = sums.get(t - start, 0.0) + float(b[t]) / abs(r.advantage)
            counts[t - start] = counts.get(t - start, 0) + 1
    return {k: sums[k] / counts[k] for k in sorted(sums)}
