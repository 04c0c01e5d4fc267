"""Reading runs' ``results.json`` and the per-run numbers the leaderboard reports.

Every accessor returns None where a run did not record what it needs (runs made before the
held-out curve or the per-difficulty accuracy existed), so the table shows "–" there.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

Run = dict[str, Any]

# Operator counts of the "hard" column: on arith, 1–2-operator problems are few enough to be
# memorised from the training stream, 3–4-operator ones are not (the id split has 1–4).
HARD_OPS = (3, 4)
# Fewer held-out points than this and the area under the curve is just (initial + final) / 2.
MIN_CURVE_POINTS = 3


def load_runs(runs: str | Path) -> list[Run]:
    """Every ``results.json`` under ``runs``, in path order (deterministic)."""
    paths = sorted(Path(runs).rglob("results.json"))
    if not paths:
        raise FileNotFoundError(
            f"no results.json under {runs}; point runs= at a folder of finished `creditzoo fit` "
            f"runs (e.g. a multirun directory or leaderboard/results)"
        )
    return [json.loads(p.read_text()) for p in paths]


def row_name(run: Run) -> str:
    """The leaderboard row: a named variant (e.g. ``rlsd-const``) or the algorithm."""
    return run.get("variant") or run["algorithm"]


def group_rows(runs: list[Run]) -> dict[str, list[Run]]:
    by_row: dict[str, list[Run]] = defaultdict(list)
    for r in runs:
        by_row[row_name(r)].append(r)
    return dict(by_row)


def final(run: Run, split: str) -> float:
    return float(run["final"][split]["acc"])


def initial(run: Run, split: str) -> float:
    return float((run.get("initial") or run["final"])[split]["acc"])


def by_seed(runs: list[Run], value) -> dict[int, float]:
    """``{seed: value(run)}`` over runs where ``value`` is not None."""
    out = {}
    for r in runs:
        v = value(r)
        if v is not None:
            out[int(r["seed"])] = v
    return out


def heldout_curve(run: Run, split: str) -> list[tuple[int, float]]:
    """The held-out accuracy curve: the fixed evaluation subset's (``curve/<split>/acc``) when
    the run has one, else the full evaluations logged under ``val/<split>/acc``."""
    curves = run.get("curves") or {}
    points = curves.get(f"curve/{split}/acc") or curves.get(f"val/{split}/acc") or []
    return [(int(s), float(v)) for s, v in points]


def curve_auc(run: Run, split: str) -> float | None:
    """Area under the held-out curve, trapezoid over steps, divided by the step range: the
    average accuracy over training (a sample-efficiency measure; same units as accuracy)."""
    points = heldout_curve(run, split)
    if len(points) < MIN_CURVE_POINTS:
        return None
    area = sum((s1 - s0) * (v0 + v1) / 2 for (s0, v0), (s1, v1) in itertools.pairwise(points))
    return area / (points[-1][0] - points[0][0])


def accuracy_on_ops(run: Run, split: str, ops: tuple[int, ...] = HARD_OPS) -> float | None:
    """Final accuracy over the problems with these operator counts (weighted by their number),
    from ``final.<split>.acc_ops<k>`` / ``n_ops<k>``; None when the run did not record them."""
    metrics = run["final"].get(split) or {}
    pairs = [(metrics.get(f"acc_ops{k}"), metrics.get(f"n_ops{k}")) for k in ops]
    pairs = [(a, n) for a, n in pairs if a is not None and n]
    if not pairs:
        return None
    return sum(a * n for a, n in pairs) / sum(n for _, n in pairs)
