"""What the leaderboard compares: one number per run (final accuracy per split, accuracy on
the hard problems, area under the held-out curve), each named and with a header."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from creditzoo.leaderboard import runs as R

# A split is "at the floor" when every row's mean final accuracy on it is below this: nothing
# there separates methods, so it leaves the headline (it stays in the full table).
FLOOR = 0.05


@dataclass(frozen=True)
class Measure:
    key: str  # e.g. "id final"
    header: str  # column header
    split: str
    kind: str  # "final", "hard" or "auc"
    value: Callable[[R.Run], float | None]


def final_measure(split: str) -> Measure:
    return Measure(f"{split} final", f"{split} final", split, "final", lambda r: R.final(r, split))


def hard_measure(split: str) -> Measure:
    ops = "–".join(str(k) for k in (R.HARD_OPS[0], R.HARD_OPS[-1]))
    header = f"{split} {ops} ops"
    return Measure(header, header, split, "hard", lambda r: R.accuracy_on_ops(r, split))


def auc_measure(split: str) -> Measure:
    return Measure(
        f"{split} AUC", f"{split} curve AUC", split, "auc", lambda r: R.curve_auc(r, split)
    )


def recorded(measure: Measure, runs: list[R.Run]) -> bool:
    """Whether any run has this measure (old runs lack curves and per-difficulty accuracy)."""
    return any(measure.value(r) is not None for r in runs)


def at_floor(by_row: dict[str, list[R.Run]], split: str) -> bool:
    return all(statistics.fmean(R.final(r, split) for r in rs) < FLOOR for rs in by_row.values())
