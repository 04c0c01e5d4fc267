"""Does the teacher read its context? A check on the first batches of every run.

A privileged teacher is only useful if the context changes its predictions in the direction of
the outcome. For each context a run uses, on the rows of the first steps pooled until they hold
``MIN_PER_CLASS`` correct and as many wrong responses and every AUROC below has a standard error
of at most ``MAX_AUROC_SE`` (at most ``MAX_TRIES`` steps; then on what they hold, if both outcomes
are there), leaving out rows that lack their context:

  teacher_logprob, student_logprob  mean log-prob per response token under each (nats)
  auroc   how well the per-response mean signal ranks correct above wrong responses:
          positive context: s_i = mean_t (teacher_logprobs − logprobs)                 (Δ)
          wrong-answer contexts: s_i = mean_t (teacher_logprobs − log mean_k exp neg_k)  (contrast)
          AUROC = P(s_correct > s_wrong) + ½·P(tie)   (0.5 is chance)

A teacher at chance (AUROC < 0.6) or far less confident than the student (its mean log-prob
more than 1 nat per token below the student's) makes the run's teacher signal noise; the check
warns, naming the context and the fix, or stops the run with ``teacher.check=strict``. It reads
fields the teacher pass already computed: no extra forward.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from creditzoo.errors import ConfigError
from creditzoo.types import RolloutBatch

log = logging.getLogger("creditzoo")

MODES = ("warn", "strict", "off")
MIN_AUROC = 0.6
MAX_CONFIDENCE_GAP = 1.0  # nats per token
MIN_PER_CLASS = 8  # correct and wrong responses pooled before the check is made
MAX_AUROC_SE = 0.05  # … and until every AUROC is this precise (Hanley–McNeil standard error)
MAX_TRIES = 30  # steps pooled at most; then the check uses what it has (both outcomes needed)


def auroc(scores: Tensor, labels: Tensor) -> float | None:
    """P(score of a positive > score of a negative), ties counting ½; None without both.

    ``scores`` ``[n]`` float, ``labels`` ``[n]`` bool."""
    pos, neg = scores[labels].double(), scores[~labels].double()
    if pos.numel() == 0 or neg.numel() == 0:
        return None
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).double() + 0.5 * (diff == 0).double()).mean())


def auroc_se(a: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUROC ``a`` from ``n_pos`` positives and ``n_neg`` negatives
    (Hanley & McNeil 1982: Q1 = a/(2−a), Q2 = 2a²/(1+a),
    SE² = (a(1−a) + (n_pos−1)(Q1−a²) + (n_neg−1)(Q2−a²)) / (n_pos·n_neg))."""
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)
    return math.sqrt(max(var, 0.0) / (n_pos * n_neg))


def row_mean(values: Tensor, mask: Tensor) -> Tensor:
    """``[n, T]`` → ``[n]`` mean over each row's real tokens (0 for an empty row)."""
    m = mask.float()
    return (values.float() * m).sum(1) / m.sum(1).clamp(min=1.0)


def contrast(batch: RolloutBatch) -> tuple[Tensor, Tensor]:
    """Per-response mean of teacher_logprobs − log mean_k exp(neg_k) over valid wrong contexts,
    and the rows that have at least one."""
    assert batch.neg_teacher_logprobs is not None and batch.neg_mask is not None
    valid = batch.neg_mask.bool()
    neg = batch.neg_teacher_logprobs.float().masked_fill(~valid[:, :, None], -math.inf)
    k = valid.sum(1).clamp(min=1).float()
    marginal = torch.logsumexp(neg, dim=1) - torch.log(k)[:, None]
    has = valid.any(1)
    e = torch.where(batch.response_mask & has[:, None], batch.teacher_logprobs - marginal, 0.0)
    return row_mean(e, batch.response_mask), has


@dataclass(frozen=True)
class RowSignals:
    """Per-response figures of the rows that have their positive context, ``[n]`` each.

    ``contrast`` is NaN on rows without a wrong-answer context (None when the run has none)."""

    correct: Tensor
    teacher: Tensor
    student: Tensor
    contrast: Tensor | None

    def __add__(self, other: RowSignals) -> RowSignals:
        both = self.contrast is not None and other.contrast is not None
        return RowSignals(
            torch.cat([self.correct, other.correct]),
            torch.cat([self.teacher, other.teacher]),
            torch.cat([self.student, other.student]),
            torch.cat([self.contrast, other.contrast]) if both else None,
        )

    def counts(self) -> tuple[int, int]:
        return int(self.correct.sum()), int((~self.correct).sum())

    def precise(self) -> bool:
        """Enough rows of each outcome, and every AUROC within ``MAX_AUROC_SE``."""
        if min(self.counts()) < MIN_PER_CLASS:
            return False
        signals = [(self.teacher - self.student, self.correct)]
        if self.contrast is not None:
            has = ~self.contrast.isnan()
            signals.append((self.contrast[has], self.correct[has]))
        for score, label in signals:
            a, n_pos, n_neg = auroc(score, label), int(label.sum()), int((~label).sum())
            if a is None or auroc_se(a, n_pos, n_neg) > MAX_AUROC_SE:
                return False
        return True


def row_signals(batch: RolloutBatch, correct: Tensor) -> RowSignals | None:
    """The batch's ``RowSignals`` (None without a teacher pass)."""
    if batch.teacher_logprobs is None:
        return None
    # Rows whose context does not exist (``teacher_mask`` False) were scored under a fallback.
    keep = batch.teacher_mask if batch.teacher_mask is not None else torch.ones_like(correct)
    mask = batch.response_mask[keep]
    score = None
    if batch.neg_teacher_logprobs is not None and batch.neg_mask is not None:
        e, has = contrast(batch)
        score = torch.where(has, e, torch.nan)[keep]
    return RowSignals(
        correct[keep],
        row_mean(batch.teacher_logprobs[keep], mask),
        row_mean(batch.logprobs[keep], mask),
        score,
    )


def figures(rows: RowSignals) -> dict[str, dict[str, Any]] | None:
    """The check's figures per signal, or None unless both correct and wrong rows are present."""
    n_correct, n_wrong = rows.counts()
    if not n_correct or not n_wrong:
        return None
    out = {
        "positive": {
            "teacher_logprob": float(rows.teacher.mean()),
            "student_logprob": float(rows.student.mean()),
            "auroc": auroc(rows.teacher - rows.student, rows.correct),
            "n_correct": n_correct,
            "n_wrong": n_wrong,
        }
    }
    if rows.contrast is not None:
        has = ~rows.contrast.isnan()  # the rows the algorithm contrasts: both contexts exist
        out["contrast"] = {
            "auroc": auroc(rows.contrast[has], rows.correct[has]),
            "rows_with_negatives": int(has.sum()),
        }
    return out


def measure(batch: RolloutBatch, correct: Tensor) -> dict[str, dict[str, Any]] | None:
    """``figures`` of one batch."""
    rows = row_signals(batch, correct)
    return None if rows is None else figures(rows)


class TeacherCheck:
    """Runs ``measure`` once per run, on the first batch it can, and reports the verdict.

    Args:
        contexts: ``{"positive": context name, "contrast": wrong-answer context name}`` as used.
        mode: ``warn`` (log a warning), ``strict`` (raise ``ConfigError``) or ``off``.
    """

    def __init__(self, contexts: dict[str, str], mode: str = "warn") -> None:
        if mode not in MODES:
            raise ConfigError(f"teacher.check must be one of {', '.join(MODES)}, got {mode!r}")
        self.contexts = contexts
        self.mode = mode
        self.result: dict[str, Any] | None = None
        self.tries = 0
        self.pooled: RowSignals | None = None

    def __call__(self, batch: RolloutBatch, correct: Tensor) -> dict[str, float]:
        """Metrics to log at this step (the check's figures, once)."""
        if self.mode == "off" or self.result is not None or self.tries >= MAX_TRIES:
            return {}
        self.tries += 1
        rows = row_signals(batch, correct)
        if rows is None:
            return {}
        self.pooled = rows if self.pooled is None else self.pooled + rows
        if not self.pooled.precise() and self.tries < MAX_TRIES:
            return {}
        found = figures(self.pooled)
        if found is None:
            return {}
        self.result = {"step": batch.step, "batches": self.tries, **self._named(found)}
        problems = self.problems()
        self.result["ok"] = not problems
        if problems:
            message = "teacher check failed: " + "; ".join(problems)
            if self.mode == "strict":
                raise ConfigError(message)
            log.warning(message)
        return {
            f"teacher_check/{signal}/{k}": float(v)
            for signal, fig in found.items()
            for k, v in fig.items()
            if v is not None
        }

    def _named(self, figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            signal: {"context": self.contexts.get(signal), **fig} for signal, fig in figures.items()
        }

    def problems(self) -> list[str]:
        """Plain sentences naming each context whose signal is noise, and the fix."""
        assert self.result is not None
        fix = (
            "the model may never have seen this context's format: pick a context it was "
            "trained to read (teacher.context=…), or write data.privileged_templates in a "
            "form it knows; teacher.check=off silences this"
        )
        out = []
        pos = self.result["positive"]
        name = pos["context"]
        if pos["auroc"] is not None and pos["auroc"] < MIN_AUROC:
            out.append(
                f"context {name!r}: Δ ranks correct above wrong responses at chance "
                f"(AUROC {pos['auroc']:.2f} < {MIN_AUROC})"
            )
        gap = pos["student_logprob"] - pos["teacher_logprob"]
        if gap > MAX_CONFIDENCE_GAP:
            out.append(
                f"context {name!r}: the teacher is far less confident than the student "
                f"({pos['teacher_logprob']:.2f} vs {pos['student_logprob']:.2f} nats/token)"
            )
        con = self.result.get("contrast")
        if con and con["auroc"] is not None and con["auroc"] < MIN_AUROC:
            out.append(
                f"contexts {name!r} vs {con['context']!r}: the contrast ranks correct above "
                f"wrong responses at chance (AUROC {con['auroc']:.2f} < {MIN_AUROC})"
            )
        return [f"{p} — {fix}" for p in out]
