"""Accuracy by difficulty, read from the problems' uids.

Tasks that have a difficulty put it in the uid (``Problem.uid``: "it also encodes difficulty
where a task has one"); arith's end in ``-ops<k>``, the number of operators. Evaluations report
``acc_ops<k>`` (avg@k over those problems) and ``n_ops<k>`` (how many there were) so that the
leaderboard can show the hard problems, where memorising the training stream cannot help.
Problems without the suffix add nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_OPS = re.compile(r"-ops(\d+)$")


def operator_count(uid: str) -> int | None:
    """``k`` of a uid ending in ``-ops<k>``, else None."""
    match = _OPS.search(uid)
    return int(match.group(1)) if match else None


def accuracy_by_difficulty(items: Sequence[dict[str, Any]]) -> dict[str, float]:
    """``{"acc_ops<k>": mean over problems of their sample accuracy, "n_ops<k>": problems}``
    for every operator count present (problems are the unit, as in ``summarize``)."""
    groups: dict[int, list[float]] = {}
    for item in items:
        k = operator_count(item["uid"])
        if k is not None and item["correct"]:
            groups.setdefault(k, []).append(sum(item["correct"]) / len(item["correct"]))
    out: dict[str, float] = {}
    for k in sorted(groups):
        out[f"acc_ops{k}"] = sum(groups[k]) / len(groups[k])
        out[f"n_ops{k}"] = float(len(groups[k]))
    return out
