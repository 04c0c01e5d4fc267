"""Credit quality from a committed credit audit (``creditzoo audit``'s ``audit.json``).

The audit scores every algorithm's credit on one frozen batch; its schema is
``metrics.credit.<algorithm>.<metric>.{mean, low, high, n}``. A leaderboard row takes the entry
of its run's algorithm, so a named variant (e.g. ``rlsd-const``) shows its base algorithm's
credit: on an audit at the warm start (step 0) a λ schedule has not decayed yet, so the two are
the same credit there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The columns shown, with their headers.
METRICS = {"auroc": "first-error AUROC", "top1": "top-1 localisation"}
METRIC_HELP = {
    "auroc": "0.5: no localisation (GRPO), 1: the oracle",
    "top1": "the chance that the most blamed token lies in the first wrong step",
}


@dataclass(frozen=True)
class CreditAudit:
    name: str  # the audit's folder name, e.g. "warmstart"
    credit: dict[str, dict[str, Any]]  # algorithm → metric → {mean, low, high, n} or None
    checkpoint_step: int | None  # the policy the batch was sampled from (None: the warm start)

    def value(self, algorithm: str, metric: str) -> float | None:
        entry = (self.credit.get(algorithm) or {}).get(metric)
        return None if entry is None else float(entry["mean"])

    def describe(self) -> str:
        where = (
            "the warm start (the policy every run starts from)"
            if not self.checkpoint_step
            else f"a checkpoint at step {self.checkpoint_step}"
        )
        return f"`credit/{self.name}/audit.json` (sampled from {where})"


def load_audit(path: str | Path | None) -> CreditAudit | None:
    """The audit at ``path`` (its ``audit.json`` or the folder holding it); None when absent."""
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        p = p / "audit.json"
    if not p.is_file():
        return None
    record = json.loads(p.read_text())
    return CreditAudit(
        name=p.parent.name,
        credit=record["metrics"]["credit"],
        checkpoint_step=(record.get("settings") or {}).get("checkpoint_step"),
    )
