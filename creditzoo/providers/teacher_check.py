"""Does the teacher read its context? A check on the first batch of every run.

A privileged teacher is only useful if the context changes its predictions in the direction of
the outcome. For each context a run uses, on the first batch that holds both correct and wrong
responses:

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
from typing import Any

import torch
from torch import Tensor

from creditzoo.errors import ConfigError
from creditzoo.types import RolloutBatch

log = logging.getLogger("creditzoo")

MODES = ("warn", "strict", "off")
MIN_AUROC = 0.6
MAX_CONFIDENCE_GAP = 1.0  # nats per token
MAX_TRIES = 5  # steps to wait for a batch with both correct and wrong responses


def auroc(scores: Tensor, labels: Tensor) -> float | None:
    """P(score of a positive > score of a negative), ties counting ½; None without both.

    ``scores`` ``[n]`` float, ``labels`` ``[n]`` bool."""
    pos, neg = scores[labels].double(), scores[~labels].double()
    if pos.numel() == 0 or neg.numel() == 0:
        return None
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).double() + 0.5 * (diff == 0).double()).mean())


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


def measure(batch: RolloutBatch, correct: Tensor) -> dict[str, dict[str, Any]] | None:
    """The check's figures per signal, or None when the batch lacks correct or wrong rows
    (among the rows that have their positive context)."""
    # Rows whose context does not exist (``teacher_mask`` False) were scored under a fallback.
    keep = batch.teacher_mask if batch.teacher_mask is not None else torch.ones_like(correct)
    kept = correct[keep]
    if batch.teacher_logprobs is None or kept.all() or not kept.any():
        return None
    mask = batch.response_mask[keep]
    teacher = row_mean(batch.teacher_logprobs[keep], mask)
    student = row_mean(batch.logprobs[keep], mask)
    out = {
        "positive": {
            "teacher_logprob": float(teacher.mean()),
            "student_logprob": float(student.mean()),
            "auroc": auroc(teacher - student, kept),
            "n_correct": int(kept.sum()),
            "n_wrong": int((~kept).sum()),
        }
    }
    if batch.neg_teacher_logprobs is not None and batch.neg_mask is not None:
        score, has = contrast(batch)
        out["contrast"] = {
            "auroc": auroc(score[has], correct[has]),
            "rows_with_negatives": int(has.sum()),
        }
    return out


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

    def __call__(self, batch: RolloutBatch, correct: Tensor) -> dict[str, float]:
        """Metrics to log at this step (the check's figures, once)."""
        if self.mode == "off" or self.result is not None or self.tries >= MAX_TRIES:
            return {}
        self.tries += 1
        figures = measure(batch, correct)
        if figures is None:
            return {}
        self.result = {"step": batch.step, **self._named(figures)}
        problems = self.problems()
        self.result["ok"] = not problems
        if problems:
            message = "teacher check failed: " + "; ".join(problems)
            if self.mode == "strict":
                raise ConfigError(message)
            log.warning(message)
        return {
            f"teacher_check/{signal}/{k}": float(v)
            for signal, fig in figures.items()
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
            "trained to read (teacher.context=answer on the tiny model), or adapt "
            "data.privileged_templates; teacher.check=off silences this"
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
