"""Training curves read back from a run's TensorBoard events (for results.json, the leaderboard)."""

from __future__ import annotations

from pathlib import Path

CURVE_TAGS = ("reward/mean", "reward/accuracy", "response/length_mean")
CURVE_PREFIXES = ("val/", "curve/")


def read_curves(tb_dir: str | Path) -> dict[str, list[list[float]]]:
    """``{tag: [[step, value], ...]}`` for the reward and held-out curves, one value per step.

    A resumed run has several event files that may repeat steps; the last write wins.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0})
    acc.Reload()
    curves: dict[str, list[list[float]]] = {}
    for tag in sorted(acc.Tags().get("scalars", [])):
        if tag not in CURVE_TAGS and not tag.startswith(CURVE_PREFIXES):
            continue
        by_step = {e.step: e.value for e in acc.Scalars(tag)}
        curves[tag] = [[int(s), float(by_step[s])] for s in sorted(by_step)]
    return curves
