"""The built-in tasks: arith (generated), champ (shipped), the hub math datasets, and ``hf`` (any
dataset, from the hub or a file, with the user's column names).

The arith task is frozen: its prompt, teacher templates, stream and test splits are those of the
committed leaderboard (tests/unit/test_arith_pinned.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from typing import Any

from creditzoo.data import arith
from creditzoo.data.arith_steps import check_arith_steps, check_arith_steps_free
from creditzoo.data.problem import Problem
from creditzoo.errors import ConfigError, MissingDataError
from creditzoo.providers.contexts import DEFAULT_TEMPLATES
from creditzoo.tasks.base import Task, TaskOptions, TrainStream, register_task
from creditzoo.tasks.tabular import Table, tabular_task

# ----------------------------------------------------------------------------- arith


class ArithStream:
    """arith's endless training stream (``arith.train_problems``)."""

    def __init__(self, seed: int, spec: arith.ArithSpec) -> None:
        self.seed, self.spec = seed, spec

    def train_batch(self, step: int, n: int) -> list[Problem]:
        return arith.train_problems(step, n, seed=self.seed, spec=self.spec)


def _arith_spec(task: Task) -> arith.ArithSpec:
    try:
        return arith.ArithSpec(**{**task.spec, **task.options.spec})
    except TypeError as err:  # an unknown data.spec key
        key = task.options.key
        raise ConfigError(f"{key}={task.name}: bad {key}.spec ({err})") from None


def _arith_stream(task: Task, seed: int) -> TrainStream:
    return ArithStream(seed, _arith_spec(task))


def _arith_configure(task: Task, options: TaskOptions) -> Task:
    if options.path or options.question or options.answer or options.solution:
        raise ConfigError(
            f"{options.key}=arith is generated; {options.key}.path and the column keys apply to "
            f"tabular tasks (e.g. {options.key}=hf {options.key}.path=<file>)"
        )
    spec = _arith_spec(task)  # fails now on a bad spec
    if spec.order not in arith.ORDERS:
        raise ConfigError(
            f"{options.key}.spec.order must be one of {arith.ORDERS}, got {spec.order!r}"
        )
    if spec.order == "free" and task.check_steps is check_arith_steps:
        raise ConfigError(
            f"{options.key}={task.name} checks steps in the canonical order; for free-order "
            f"solutions use {options.key}=arith-free"
        )
    return task


def _arith_load(task: Task, split: str, limit: int | None) -> list[Problem]:
    return arith.test_split(split, limit or 500)


def _arith_task(name: str, description: str, check_steps, spec: dict[str, Any]) -> Task:
    return Task(
        name,
        description,
        ("id", "ood"),
        _arith_load,
        train_splits=("train",),
        prompt_template="{problem}",
        max_new_tokens=64,
        answer_format="boxed",
        has_solutions=True,
        check_steps=check_steps,
        # The forms the tiny model's warm start trains on (models/warmstart.py), so that its
        # teacher reads every context.
        privileged_templates=dict(DEFAULT_TEMPLATES),
        privileged_templates_version="arith-v1",
        stream=_arith_stream,
        configure_with=_arith_configure,
        spec=spec,
    )


register_task(
    _arith_task(
        "arith",
        "built-in arithmetic: training generated per step (1–4 operators); held out id (1–4) "
        "and ood (5 operators)",
        check_arith_steps,
        {"min_ops": 1, "max_ops": 4},
    )
)
register_task(
    _arith_task(
        "arith-free",
        "arith with free evaluation order: training solutions take a random valid operation at "
        "every step, and any valid order is right (the step checker follows the expression); "
        "held out id and ood as arith. Train the free-order warm start: model=tiny-free",
        check_arith_steps_free,
        {"min_ops": 1, "max_ops": 4, "order": "free"},
    )
)

# ----------------------------------------------------------------------------- champ


def _champ_load(task: Task, split: str, limit: int | None) -> list[Problem]:
    path = task.options.path
    if path is None:
        spec = importlib.util.find_spec("champ_dataset")
        if spec is None or not spec.submodule_search_locations:
            raise MissingDataError(
                f"task champ needs the PyPI package champ-dataset (pip install champ-dataset) "
                f"or {task.options.key}.path=<its dataset_files/v0.json>"
            )
        path = os.path.join(spec.submodule_search_locations[0], "dataset_files", "v0.json")
    if not os.path.isfile(path):
        raise MissingDataError(f"task champ: no file at {path} (CHAMP's dataset_files/v0.json)")
    with open(path) as fh:
        records = json.load(fh)["problems"]
    return [
        Problem(
            uid=f"champ-{key}",
            problem=records[key]["_text"],
            answer=records[key]["_answer"],
            solution=str(records[key].get("solution", "")),
        )
        for key in sorted(records, key=_natural)
    ]


def _natural(key: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def _champ_configure(task: Task, options: TaskOptions) -> Task:
    if options.question or options.answer or options.solution or options.spec:
        raise ConfigError(f"{options.key}=champ reads CHAMP's own file; only {options.key}.path")
    return task


register_task(
    Task(
        "champ",
        "CHAMP: 270 competition problems (PyPI champ-dataset, offline)",
        ("test",),
        _champ_load,
        max_new_tokens=1024,
        configure_with=_champ_configure,
    )
)

# ----------------------------------------------------------------------------- hub datasets


def _hub(name: str, description: str, table: Table, splits: tuple[str, ...], **kw: Any) -> None:
    register_task(tabular_task(name, description, table, splits, **kw))


_hub(
    "gsm8k",
    "GSM8K grade-school math (openai/gsm8k): train 7473, test 1319",
    Table("openai/gsm8k", "question", "answer", "answer", "main", "gsm8k"),
    ("train", "test"),
    train_splits=("train",),
    max_new_tokens=512,
)
_hub(
    "math",
    "MATH competition problems (DigitalLearningGmbH/MATH-lighteval): train 7500, test 5000",
    Table("DigitalLearningGmbH/MATH-lighteval", "problem", "solution", "solution", None, "boxed"),
    ("train", "test"),
    train_splits=("train",),
    max_new_tokens=1024,
)
_hub(
    "math500",
    "MATH-500 (HuggingFaceH4/MATH-500)",
    Table("HuggingFaceH4/MATH-500", "problem", "answer", "solution", None, "plain"),
    ("test",),
    max_new_tokens=1024,
)
_hub(
    "dapo-math-17k",
    "DAPO-Math-17k, deduplicated English (open-r1/DAPO-Math-17k-Processed, en): train ~14k",
    Table("open-r1/DAPO-Math-17k-Processed", "prompt", "solution", None, "en", "plain"),
    ("train",),
    train_splits=("train",),
    max_new_tokens=2048,
)
_hub(
    "aime24",
    "AIME 2024 (HuggingFaceH4/aime_2024, 30)",
    Table(
        "HuggingFaceH4/aime_2024",
        "problem",
        "answer",
        "solution",
        None,
        "plain",
        hub_splits={"test": "train"},
    ),
    ("test",),
    max_new_tokens=2048,
)
_hub(
    "amc23",
    "AMC 2023 (math-ai/amc23, 40)",
    Table("math-ai/amc23", "question", "answer", None, None, "plain"),
    ("test",),
    max_new_tokens=2048,
)
register_task(
    tabular_task(
        "hf",
        "any dataset: .path=<hub id | .jsonl/.json/.parquet/.csv file> .question=<column> "
        ".answer=<column> [.solution .split .config .answer_format]; a file is split train",
        Table(None, "question", "answer", None, None, "boxed"),
        ("train", "validation", "test"),
        train_splits=("train", "validation", "test"),
        eval_splits=("test",),
    )
)
