"""One definition for every ratio a benchmark reports (issue 20).

A ratio of two measurements taken side by side in rounds is the list of per-round paired
ratios, ``median(num[r]) / median(den[r])`` for each round ``r``; the headline is that list's
median and the range its min and max. Headline and range come from the same list, so the
headline always lies inside its range (a ratio of medians pooled over all rounds need not: with
uneven rounds it can fall outside every per-round ratio).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

DEFINITION = (
    "per-round paired ratios median(num in round r) / median(den in round r); "
    "reported as their median (min–max)"
)


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of one list of values."""
    if not values:
        raise ValueError("summary of an empty list")
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def paired_ratio(
    num: Sequence[Sequence[float]], den: Sequence[Sequence[float]]
) -> dict[str, float | list[float]]:
    """Per-round ratios of medians, summarised; ``per_round`` keeps the list itself.

    ``num[r]`` and ``den[r]`` are the samples of numerator and denominator measured in round
    ``r`` (step times, tokens/s, …); rounds must match one to one.
    """
    if len(num) != len(den):
        raise ValueError(f"{len(num)} numerator rounds against {len(den)} denominator rounds")
    per_round = [statistics.median(a) / statistics.median(b) for a, b in zip(num, den, strict=True)]
    return {**summary(per_round), "per_round": per_round}
