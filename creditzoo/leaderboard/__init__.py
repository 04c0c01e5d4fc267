"""`creditzoo leaderboard runs=<dir> out=<dir>`: a side-by-side table and plots from real runs.

Reads every ``results.json`` under ``runs`` (a Hydra multirun folder works as is) and groups
runs into rows by algorithm, or by named variant (``variant=`` of `creditzoo fit`, e.g.
``rlsd-const``). Per row: final held-out accuracy per split with a 95% t interval over seeds,
its paired difference from a reference row (default grpo) seed by seed with a p-value and the
minimum detectable difference, accuracy on the hard (3–4-operator) problems, the area under the
held-out curve, and — when a credit audit is given — the credit's first-error AUROC and top-1
localisation next to the accuracy. Splits at the floor for every row leave the headline.
Everything is derived from the inputs only — no clock, no environment — so regenerating from
the same runs gives byte-identical files.

Modules: ``runs`` (reading runs, per-run numbers), ``measures`` (what is compared), ``stats``
(t distribution, paired tests), ``credit`` (the audit), ``markdown``, ``plots``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from creditzoo.leaderboard import plots
from creditzoo.leaderboard.credit import load_audit
from creditzoo.leaderboard.markdown import COMMAND, Report
from creditzoo.leaderboard.runs import group_rows, load_runs
from creditzoo.leaderboard.stats import mean_ci, paired

__all__ = ["COMMAND", "DEFAULT_AUDIT", "build", "main", "mean_ci", "paired"]

# The credit audit the leaderboard shows by default, relative to out=: the audit of the warm
# start, i.e. of the policy every run begins from.
DEFAULT_AUDIT = Path("credit") / "warmstart" / "audit.json"


def build(
    runs_dir: str | Path,
    out_dir: str | Path,
    *,
    reference: str = "grpo",
    audit: str | Path | None = None,
) -> Path:
    """Write ``README.md`` and ``plots/`` into ``out_dir`` from the runs under ``runs_dir``.

    ``reference`` is the row every other row is paired against; ``audit`` an ``audit.json``
    (or its folder) whose credit metrics join the table — None or a missing file: no credit
    columns and no gain-vs-credit figure."""
    runs = load_runs(runs_dir)
    by_row = group_rows(runs)
    splits = sorted({s for r in runs for s in (r.get("final") or {})})
    report = Report(runs, by_row, splits, reference, load_audit(audit))
    out = Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    plots.plot_heldout(by_row, splits, out / "plots")
    plots.plot_reward(by_row, out / "plots")
    plots.plot_final(by_row, splits, out / "plots")
    gain_plot = False
    if report.audit is not None and report.deltas:
        split = report.headline_splits[0]
        gain_plot = plots.plot_gain_vs_credit(
            report.deltas[f"{split} final"], report.audit, report.base, reference, split,
            out / "plots",
        )  # fmt: skip
    readme = out / "README.md"
    readme.write_text(report.markdown(gain_plot))
    return readme


def main(argv: list[str] | None = None) -> int:
    args = dict(a.split("=", 1) for a in (argv if argv is not None else sys.argv[1:]) if "=" in a)
    unknown = set(args) - {"runs", "out", "reference", "audit"}
    if unknown:
        print(
            f"creditzoo leaderboard: unknown key(s) {sorted(unknown)}; use runs=<dir> out=<dir> "
            "[reference=grpo] [audit=<audit.json or its folder> | audit=none]",
            file=sys.stderr,
        )
        return 2
    out = Path(args.get("out", "leaderboard"))
    audit = args.get("audit", str(out / DEFAULT_AUDIT))
    try:
        readme = build(
            args.get("runs", "leaderboard/results"),
            out,
            reference=args.get("reference", "grpo"),
            audit=None if audit in ("", "none", "null") else audit,
        )
    except FileNotFoundError as err:
        print(f"creditzoo leaderboard: {err}", file=sys.stderr)
        return 2
    print(f"wrote {readme} and {readme.parent / 'plots'}/")
    return 0
