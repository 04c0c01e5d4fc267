"""Loading a task's split the one way training and evaluation share: rows without a reference
answer are skipped and counted, then the first ``limit`` problems are kept."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from creditzoo.data.problem import Problem
from creditzoo.tasks.base import Task

log = logging.getLogger("creditzoo")


@dataclass(frozen=True)
class Split:
    """The problems of one split, and how many rows were skipped for want of an answer."""

    task: str
    name: str
    problems: list[Problem]
    skipped_no_answer: int = 0


def load_split(task: Task, split: str, limit: int | None = None) -> Split:
    """The problems of ``split`` in the task's fixed order (the first ``limit`` when given)."""
    task.check_splits([split], f"{task.options.key}.splits")
    rows = task.load(task, split, limit)
    problems = [p for p in rows if p.answer.strip()]
    skipped = len(rows) - len(problems)
    if skipped:  # nothing to verify against: counted, never scored as wrong
        log.warning(
            "task %s/%s: skipped %d row(s) without a reference answer", task.name, split, skipped
        )
    return Split(task.name, split, problems[:limit] if limit else problems, skipped)


def data_hash(problems: list[Problem]) -> str:
    """sha256 over (uid, problem, answer): two results with the same hash saw the same data."""
    h = hashlib.sha256()
    for p in problems:
        h.update(json.dumps([p.uid, p.problem, p.answer]).encode())
    return h.hexdigest()
