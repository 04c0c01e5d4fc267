"""The leaderboard's figures; byte-identical from the same inputs (no clock, fixed SVG salt,
no software tag)."""

from __future__ import annotations

import statistics
from pathlib import Path

from creditzoo.leaderboard import runs as R
from creditzoo.leaderboard.credit import CreditAudit
from creditzoo.leaderboard.stats import Paired, mean_ci

HELDOUT = "heldout_vs_step.png"
REWARD = "reward_vs_step.png"
FINAL = "final_accuracy.png"
GAIN_VS_CREDIT = "gain_vs_credit.png"


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "creditzoo", "figure.dpi": 100})
    return plt


def _save(fig, path: Path) -> None:
    fig.savefig(path, metadata={"Software": None}, bbox_inches="tight")


def _style(i: int) -> dict:
    """A distinct colour and line style per row: tab10 alone repeats after ten rows."""
    import matplotlib

    # tab20's dark shades first, then the light ones, then again dashed.
    return {
        "color": matplotlib.colormaps["tab20"]((2 * i) % 20 + (i % 20 >= 10)),
        "linestyle": ("-", "--", ":")[(i // 20) % 3],
    }


def _points(
    points_by_run: list[list[tuple[int, float]]],
) -> tuple[list[int], list[float], list[float], list[float]]:
    """Steps every run has a point at, and the mean / min / max over runs there."""
    curves = [dict(points) for points in points_by_run]
    if not curves:
        return [], [], [], []
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    mean = [statistics.fmean(c[s] for c in curves) for s in steps]
    return (
        steps,
        mean,
        [min(c[s] for c in curves) for s in steps],
        [max(c[s] for c in curves) for s in steps],
    )


def _smoothed(points: list[tuple[int, float]], window: int) -> list[tuple[int, float]]:
    """Trailing moving average (training reward is noisy step to step)."""
    vals = [v for _, v in points]
    return [
        (s, statistics.fmean(vals[max(0, i - window + 1) : i + 1]))
        for i, (s, _) in enumerate(points)
    ]


def plot_heldout(by_row: dict[str, list[R.Run]], splits: list[str], out: Path) -> None:
    """Held-out accuracy against step: per row the mean over seeds as a line with a marker at
    each evaluation (only the steps every seed evaluated), and the min–max band over seeds."""
    plt = _figure()
    fig, axes = plt.subplots(1, len(splits), figsize=(6 * len(splits), 4.5), squeeze=False)
    for ax, split in zip(axes[0], splits, strict=True):
        for i, row in enumerate(sorted(by_row)):
            steps, mean, lo, hi = _points([R.heldout_curve(r, split) for r in by_row[row]])
            if steps:
                style = _style(i)
                ax.plot(steps, mean, marker="o", markersize=4, label=row, **style)
                ax.fill_between(steps, lo, hi, alpha=0.12, color=style["color"], linewidth=0)
        ax.set_title(f"held-out {split} accuracy (avg@k; band: min–max over seeds)")
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, ncol=2)
    _save(fig, out / HELDOUT)
    plt.close(fig)


def plot_reward(by_row: dict[str, list[R.Run]], out: Path) -> None:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, row in enumerate(sorted(by_row)):
        curves = [
            _smoothed([(int(s), v) for s, v in r.get("curves", {}).get("reward/mean", [])], 20)
            for r in by_row[row]
        ]
        steps, mean, lo, hi = _points(curves)
        if steps:
            style = _style(i)
            ax.plot(steps, mean, label=row, **style)
            ax.fill_between(steps, lo, hi, alpha=0.12, color=style["color"], linewidth=0)
    ax.set_title("training reward (20-step moving average; band: min–max over seeds)")
    ax.set_xlabel("optimizer step")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    _save(fig, out / REWARD)
    plt.close(fig)


def plot_final(by_row: dict[str, list[R.Run]], splits: list[str], out: Path) -> None:
    plt = _figure()
    rows = sorted(by_row)
    fig, axes = plt.subplots(
        1, len(splits), figsize=(max(5.5, 0.45 * len(rows)) * len(splits), 4), squeeze=False
    )
    for ax, split in zip(axes[0], splits, strict=True):
        for i, row in enumerate(rows):
            values = [R.final(r, split) for r in by_row[row]]
            m, ci = mean_ci(values)
            ax.bar(i, m, yerr=ci or 0.0, capsize=4, alpha=0.6)
            ax.scatter([i] * len(values), values, color="black", s=10, zorder=3)
            initial = statistics.fmean(R.initial(r, split) for r in by_row[row])
            ax.hlines(initial, i - 0.4, i + 0.4, color="gray", linestyle=":", linewidth=1.5)
        ax.set_xticks(range(len(rows)), rows, rotation=45, ha="right")
        ax.set_title(f"final {split} accuracy")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("bars: mean with 95% CI; dots: seeds; dotted: before training", fontsize=9, y=1.02)
    _save(fig, out / FINAL)
    plt.close(fig)


def plot_gain_vs_credit(
    deltas: dict[str, Paired | None],
    audit: CreditAudit,
    base: dict[str, str],
    reference: str,
    split: str,
    out: Path,
) -> bool:
    """Paired final-accuracy gain over the reference against the audit's first-error AUROC of
    the row's credit; the reference (Δ = 0) and the oracle are the anchors. False (no figure)
    when fewer than two rows have both numbers."""
    points = []
    ref_auroc = audit.value(base.get(reference, reference), "auroc")
    if ref_auroc is not None:  # the reference's own point: Δ = 0 by definition
        points.append((reference, ref_auroc, Paired(0, 0.0, None, None, None)))
    for row in sorted(deltas):
        auroc = audit.value(base[row], "auroc")
        d = deltas[row]
        if auroc is not None and d is not None:
            points.append((row, auroc, d))
    if len(points) < 2:
        return False
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for row, auroc, d in points:
        anchor = row in (reference, "oracle")
        ax.errorbar(
            auroc,
            d.mean,
            yerr=d.ci or 0.0,
            fmt="s" if anchor else "o",
            color="black" if anchor else "tab:blue",
            capsize=3,
            markersize=6 if anchor else 4,
        )
        ax.annotate(row, (auroc, d.mean), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.axhline(0.0, color="gray", linewidth=0.8)
    ax.axvline(0.5, color="gray", linewidth=0.8, linestyle=":")
    ax.set_xlabel(f"first-error AUROC of the credit ({audit.name} audit; 0.5 = none)")
    ax.set_ylabel(f"final {split} accuracy − {reference} (paired by seed)")
    ax.set_title("accuracy gain against credit quality (bars: 95% t interval)", fontsize=10)
    ax.grid(alpha=0.3)
    _save(fig, out / GAIN_VS_CREDIT)
    plt.close(fig)
    return True
