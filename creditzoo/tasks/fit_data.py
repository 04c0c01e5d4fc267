"""What a `fit` run trains and validates on, built once at start-up from ``data.*`` and
``eval.*``: the training stream, the held-out problems, and a report of what was skipped and
what overlaps (``results.json`` → ``data_report``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from creditzoo.data.problem import Problem
from creditzoo.errors import ConfigError
from creditzoo.tasks.base import Task, TaskOptions, TrainStream, get_task
from creditzoo.tasks.hygiene import drop_too_long, exclude, normalise, overlap
from creditzoo.tasks.splits import load_split
from creditzoo.tasks.stream import EpochStream

log = logging.getLogger("creditzoo")


@dataclass
class FitData:
    task: Task  # the training task, configured
    stream: TrainStream
    eval_task: Task
    eval_splits: dict[str, list[Problem]]
    report: dict[str, Any]


def training_task(data: Mapping[str, Any]) -> Task:
    """The task of ``data.*``, configured; a data-only setting on a generated task is refused."""
    task = get_task(data["name"], TaskOptions.from_section(data, "data"))
    if task.stream is not None:
        for key in ("max_prompt_tokens", "exclude_eval"):
            if data.get(key):
                raise ConfigError(
                    f"data.{key} filters a finite dataset; data={task.name} generates its "
                    f"training problems (unset data.{key})"
                )
    task.train_split()  # fails now on a task or split that cannot be trained on
    return task


def evaluation_task(train: Task, benchmark: str | Mapping[str, Any] | None) -> Task:
    """``eval.benchmark`` (a task name, or a section with its options), or the training task."""
    if benchmark is None:
        return train
    if isinstance(benchmark, str):
        return get_task(benchmark, TaskOptions(key="eval.benchmark"))
    section = dict(benchmark)
    if "name" not in section:
        raise ConfigError("eval.benchmark needs a name (eval.benchmark={name:gsm8k,path:…})")
    return get_task(section["name"], TaskOptions.from_section(section, "eval.benchmark"))


def eval_split_names(task: Task, splits: list[str] | None, setting: str) -> list[str]:
    names = list(splits or task.default_eval_splits)
    task.check_splits(names, setting)
    return names


def fit_data(
    data: Mapping[str, Any],
    eval_cfg: Mapping[str, Any],
    seed: int,
    prompt_tokens: Callable[[Problem], int],
) -> FitData:
    """Load, check and report the run's data (``prompt_tokens`` counts a rendered prompt)."""
    task = training_task(data)
    eval_task = evaluation_task(task, eval_cfg.get("benchmark"))
    names = eval_split_names(eval_task, eval_cfg.get("splits"), "eval.splits")
    # The training split first, so that missing data is reported for what the run trains on.
    split = None if task.stream is not None else load_split(task, task.train_split())
    loaded = {s: load_split(eval_task, s, eval_cfg["n"]) for s in names}
    evals = {s: part.problems for s, part in loaded.items()}
    report: dict[str, Any] = {
        "task": task.name,
        "eval_task": eval_task.name,
        "eval_skipped_no_answer": {s: part.skipped_no_answer for s, part in loaded.items()},
    }
    if split is None:  # generated: nothing to count (arith.py documents its overlap)
        assert task.stream is not None
        report |= {"split": "train", "problems": None, "overlap": None}
        return FitData(task, task.stream(task, seed), eval_task, evals, report)
    problems, too_long = drop_too_long(split.problems, prompt_tokens, data.get("max_prompt_tokens"))
    per_split, shared = overlap(problems, evals)
    kept = exclude(problems, shared) if data.get("exclude_eval") else problems
    report |= {
        "split": split.name,
        "problems": len(kept),
        "skipped_no_answer": split.skipped_no_answer,
        "skipped_too_long": too_long,
        "overlap": per_split,
        "overlap_train_problems": sum(normalise(p.problem) in shared for p in problems),
        "excluded": len(problems) - len(kept),
    }
    _log(report)
    if not kept:
        raise ConfigError(
            f"data={task.name}: no training problems left in split {split.name!r} "
            f"({split.skipped_no_answer} without an answer, {too_long} over "
            f"data.max_prompt_tokens, {report['excluded']} excluded as evaluation problems)"
        )
    return FitData(task, EpochStream(kept, seed), eval_task, evals, report)


def _log(report: Mapping[str, Any]) -> None:
    log.info(
        "data %s/%s: %d training problems (%d skipped without an answer, %d over "
        "data.max_prompt_tokens, %d excluded)",
        report["task"],
        report["split"],
        report["problems"],
        report["skipped_no_answer"],
        report["skipped_too_long"],
        report["excluded"],
    )
    hits = {s: n for s, n in report["overlap"].items() if n}
    if hits:
        log.warning(
            "data %s: evaluation problems also in training (exact match): %s%s",
            report["task"],
            ", ".join(f"{report['eval_task']}/{s}: {n}" for s, n in hits.items()),
            "" if report["excluded"] else " (data.exclude_eval=true removes them from training)",
        )
