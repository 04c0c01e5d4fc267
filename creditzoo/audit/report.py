"""The audit's report, computed from ``tokens.jsonl.gz`` alone: metrics, README, plot, page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from creditzoo.audit.dump import DUMP_FILE, read_dump
from creditzoo.audit.html import write_examples
from creditzoo.audit.metrics import METRIC_HELP, Response, blame_by_offset, evaluate
from creditzoo.process.steps import CATEGORIES, LABEL_ERROR

PLOT_FILE = "blame_by_offset.png"
EXAMPLES_FILE = "examples.html"
KINDS = {"": "per-token advantage Â", "prefix": "prefix-aggregated", "realised": "realised δ"}


def load(out: Path) -> tuple[list[Response], dict[str, list[np.ndarray]], list[dict[str, Any]]]:
    """Responses, blame vectors per credit map (b = −credit; None where a map does not cover a
    response), and the raw records."""
    records = list(read_dump(out / DUMP_FILE))
    responses, blames = [], {}
    names = list(records[0]["credit"]) if records else []
    for r in records:
        labels = np.asarray(r["labels"], dtype=np.int64)
        located = (
            r["category"] == "wrong" and not r["correct"] and bool((labels == LABEL_ERROR).any())
        )
        scored = located and r["advantage"] != 0  # the outcome blames it: a sibling is correct
        responses.append(Response(r["group"], r["correct"], scored, labels, r["advantage"]))
        for name in names:  # None: this map does not cover the row (the realised change)
            values = r["credit"].get(name)
            blame = None if values is None else -np.asarray(values, dtype=np.float64)
            blames.setdefault(name, []).append(blame)
    return responses, blames, records


def write_report(out: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Compute every metric from the dump in ``out`` and write README.md, the plot and the
    examples page there; returns the metrics (as ``audit.json`` stores them)."""
    responses, blames, records = load(out)
    num_groups = 1 + max(r.group for r in responses)
    metrics: dict[str, Any] = {
        "categories": {c: sum(r["category"] == c for r in records) for c in CATEGORIES},
        "responses": len(records),
        "correct": sum(r["correct"] for r in records),
        "scored": sum(r.scored for r in responses),
        "credit": {
            name: {
                k: (v.as_dict() if v else None)
                for k, v in evaluate(b, responses, num_groups).items()
            }
            for name, b in blames.items()
        },
    }
    algorithms = record["settings"]["algorithms"]
    curves = {
        kind: {a: blame_by_offset(blames[_key(a, kind)], responses) for a in algorithms}
        for kind in ("", "prefix")
    }
    _plot(out / PLOT_FILE, curves)
    write_examples(out / EXAMPLES_FILE, records, algorithms)
    (out / "README.md").write_text(_readme(record, metrics, algorithms))
    return metrics


def _key(algorithm: str, kind: str) -> str:
    return f"{algorithm}:{kind}" if kind else algorithm


def _plot(path: Path, curves: dict[str, dict[str, dict[int, float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
    for ax, (kind, lines) in zip(axes, curves.items(), strict=True):
        for name, curve in lines.items():
            ax.plot(list(curve), list(curve.values()), marker=".", label=name)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"blame / |A| ({KINDS[kind]})")
        ax.set_xlabel("token offset from the first wrong step")
    axes[0].set_ylabel("mean over wrong responses")
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def _fmt(estimate: dict[str, Any] | None) -> str:
    if estimate is None:
        return "–"
    return f"{estimate['mean']:.3f} [{estimate['low']:.3f}, {estimate['high']:.3f}]"


def _table(metrics: dict[str, Any], names: list[str]) -> list[str]:
    cols = list(METRIC_HELP)
    lines = ["| credit | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name in names:
        row = metrics["credit"].get(name)
        if row is not None:
            lines.append(f"| {name} | " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    return lines


def _readme(record: dict[str, Any], metrics: dict[str, Any], algorithms: list[str]) -> str:
    s = record["settings"]
    where = (
        f"checkpoint `{s['checkpoint']}` (step {s['checkpoint_step']})"
        if s["checkpoint"]
        else (f"model `{s['model']['name']}` as shipped")
    )
    cats = ", ".join(f"{k} {v}" for k, v in metrics["categories"].items())
    lines = [
        "# Credit audit",
        "",
        f"{where}; data={s['data']}, {s['n_problems']} problems × {s['group_size']} samples "
        f"(seed {s['seed']}, temperature {s['temperature']}). Every algorithm credits the same "
        f"{metrics['responses']} responses ({metrics['correct']} correct). Step checker: {cats}; "
        f"{metrics['scored']} wrong responses with a located first error and a correct sibling "
        f"(outcome advantage A < 0) are scored; coverage counts every wrong response.",
        "",
        "Blame b = −credit. Each cell: mean [95% bootstrap interval over problems].",
        "",
        *[f"- **{k}**: {v}" for k, v in METRIC_HELP.items()],
        "",
        "## Per-token advantage (what the loss multiplies), with controls",
        "",
        *_table(metrics, [*algorithms, *s["controls"]]),
        "",
        "Controls: position (b = t/T), student surprisal (b = −log p), a teacher shown another "
        "problem's answer (b = −Δ: the noise floor of a teacher signal).",
        "",
        "## Effective credit: prefix-aggregated",
        "",
        "Σ of the loss-weighted advantages of every row of the group sharing the token's prefix "
        "(shared prefixes of correct and wrong rows cancel).",
        "",
        *_table(metrics, [f"{a}:prefix" for a in algorithms]),
        "",
        "## Effective credit: realised",
        "",
        f"b = −(log π'(y_t) − log π(y_t)) after one step along the credit's gradient (length "
        f"lr·√P = a fresh AdamW's first step, lr {s['lr']}) over the responses of the first "
        f"{s['realised_problems']} problems, from the audited weights.",
        "",
        *_table(metrics, [f"{a}:realised" for a in algorithms]),
        "",
        f"![mean blame by offset from the first wrong step]({PLOT_FILE})",
        "",
        f"Token-level view of 20 wrong responses: [{EXAMPLES_FILE}]({EXAMPLES_FILE}).",
        "",
        "Regenerate this page from the dump: `creditzoo audit from=<this folder>`.",
        "",
    ]
    return "\n".join(lines)
