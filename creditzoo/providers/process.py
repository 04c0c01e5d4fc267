"""``process_labels``: the task's step checker run on every response of the step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from creditzoo.data.problem import Problem
from creditzoo.process.alignment import labels_for_row, token_offsets
from creditzoo.process.steps import CATEGORIES, LABEL_OTHER, StepCheck, StepChecker
from creditzoo.providers.base import NoStateHooks, StepInputs
from creditzoo.rollout.sequences import Sequences
from creditzoo.types import RolloutBatch


@dataclass(frozen=True)
class CheckedRows:
    """Every row's step check, token offsets (None: no honest alignment) and labels ``[N, T]``."""

    checks: list[StepCheck]
    offsets: list[list[tuple[int, int]] | None]
    labels: Tensor


def check_rows(
    seqs: Sequences, problems: Sequence[Problem], group_size: int, checker: StepChecker, tokenizer
) -> CheckedRows:
    """Run ``checker`` on each response and align its verdict with the sampled tokens."""
    labels = torch.full(seqs.response_ids.shape, LABEL_OTHER, dtype=torch.long)
    checks, offsets = [], []
    for i, text in enumerate(seqs.texts):
        check = checker(problems[i // group_size], text)
        ids = seqs.response_ids[i][seqs.response_mask[i]].tolist()
        row_offsets = token_offsets(tokenizer, ids)
        if row_offsets is not None:
            labels[i, : len(ids)] = torch.tensor(labels_for_row(check, row_offsets))
        checks.append(check)
        offsets.append(row_offsets)
    return CheckedRows(checks, offsets, labels)


class ProcessLabelProvider(NoStateHooks):
    """Fills ``process_labels`` [N, T] (int64: 1 correct prefix, 0 first wrong step, −1 after it,
    padding or not applicable) from the task's ``check_steps``; logs the share of each category."""

    name = "process"
    provides = frozenset({"process_labels"})
    needs_verdicts = False  # the checker reads the text only: it runs while verification does

    def __init__(self, checker: StepChecker, tokenizer: Any) -> None:
        self.checker = checker
        self.tokenizer = tokenizer
        self._shares: dict[str, float] = {}

    def score(self, inputs: StepInputs, fields: frozenset[str]) -> dict[str, Tensor]:
        rows = check_rows(
            inputs.seqs, inputs.problems, inputs.group_size, self.checker, self.tokenizer
        )
        counts = Counter(c.category for c in rows.checks)
        self._shares = {f"process/{c}": counts[c] / len(rows.checks) for c in CATEGORIES}
        return {"process_labels": rows.labels}

    def metrics(self, inputs: StepInputs, batch: RolloutBatch) -> Mapping[str, float]:
        return self._shares
