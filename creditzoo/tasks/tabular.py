"""Tasks read from a table: a Hugging Face hub dataset or a local .jsonl/.json/.parquet/.csv file.

A ``Table`` says where the rows live and which columns hold the question, the reference answer
and (optionally) a worked solution; ``answer_format`` says how the answer is written in its
column: ``boxed`` (the last ``\\boxed{…}``, as in MATH solutions), ``gsm8k`` (the number after
``####``) or ``plain`` (the text itself). The user's ``path``/column keys override the task's
defaults (``configure_table``). A local file holds one split, ``train``; a named task given a
local file reads it for whichever split is asked (it replaces the hub copy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creditzoo.data.problem import Problem
from creditzoo.errors import ConfigError, MissingDataError
from creditzoo.tasks.base import ANSWER_FORMATS, Task, TaskOptions

FILE_KINDS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
HUB_SPLITS = ("train", "validation", "test")  # what a hub dataset of the `hf` task may have


@dataclass(frozen=True)
class Table:
    """Where a tabular task's rows are and how to read them.

    ``hub_splits`` maps a task split to the hub's split name when they differ (AIME 2024's only
    split is called ``train`` on the hub but is a test set)."""

    location: str | None  # a hub id or a local file; None: the user must give one (`hf`)
    question: str
    answer: str
    solution: str | None = None
    config: str | None = None
    answer_format: str = "boxed"
    hub_splits: Mapping[str, str] = field(default_factory=dict)


def tabular_task(
    name: str, description: str, table: Table, splits: tuple[str, ...], **kwargs: Any
) -> Task:
    """A task whose problems are the rows of ``table``."""
    return Task(
        name,
        description,
        splits,
        load_table,
        answer_format=table.answer_format,
        has_solutions=table.solution is not None,
        configure_with=configure_table,
        details=table,
        **kwargs,
    )


def configure_table(task: Task, options: TaskOptions) -> Task:
    """The task with the user's location, columns and answer format applied."""
    table: Table = task.details
    generic = table.location is None  # the `hf` task: its splits are those of the user's data
    if options.spec:
        raise ConfigError(
            f"{options.key}={task.name} takes no {options.key}.spec (it reads a table)"
        )
    fmt = options.answer_format or table.answer_format
    if fmt not in ANSWER_FORMATS:
        raise ConfigError(
            f"{options.key}.answer_format must be one of {', '.join(ANSWER_FORMATS)}, got {fmt!r}"
        )
    table = dataclasses.replace(
        table,
        location=options.path or table.location,
        question=options.question or table.question,
        answer=options.answer or table.answer,
        solution=options.solution or table.solution,
        config=options.config or table.config,
        answer_format=fmt,
    )
    if table.location is None:
        raise ConfigError(
            f"{options.key}={task.name} needs {options.key}.path=<hub id or a .jsonl/.json/"
            f".parquet/.csv file> {options.key}.question=<column> {options.key}.answer=<column>"
        )
    changes: dict[str, Any] = {
        "details": table,
        "answer_format": fmt,
        "has_solutions": table.solution is not None,
    }
    if generic:
        changes |= _generic_splits(table.location, options.split)
    return dataclasses.replace(task, **changes)


def _generic_splits(location: str, split: str | None) -> dict[str, tuple[str, ...]]:
    """A local file is the split ``train``; a hub dataset has its usual splits (and ``split``)."""
    if is_file(location):
        return {"splits": ("train",), "train_splits": ("train",), "eval_splits": ("train",)}
    splits = tuple(dict.fromkeys((*HUB_SPLITS, *([split] if split else []))))
    return {"splits": splits, "train_splits": splits, "eval_splits": ("test",)}


def is_file(location: str) -> bool:
    """A local file (by its suffix or because it exists), else a hub id."""
    return Path(location).suffix.lower() in FILE_KINDS or Path(location).is_file()


def load_table(task: Task, split: str, limit: int | None = None) -> list[Problem]:
    """Every row of ``split`` as a ``Problem`` (``answer=""`` where the row has none)."""
    table: Table = task.details
    rows = _read(task, table, split)
    out = []
    for i, row in enumerate(rows):
        raw = _get(row, table.answer)
        answer = extract_answer(str(raw), table.answer_format) if raw is not None else ""
        solution = _get(row, table.solution) if table.solution else None
        out.append(
            Problem(
                uid=f"{task.name}-{i:05d}",
                problem=_text(_get(row, table.question)),
                answer=answer,
                solution="" if solution is None else str(solution),
            )
        )
    return out


def _read(task: Task, table: Table, split: str) -> Any:
    import datasets

    key, where = task.options.key, table.location
    assert where is not None
    columns = f"columns {table.question!r} (question) and {table.answer!r} (answer)"
    if is_file(where):
        path = Path(where)
        if not path.is_file():
            raise MissingDataError(
                f"{key}={task.name}: no file at {where}; set {key}.path=<a .jsonl, .json, "
                f".parquet or .csv file> with {columns}"
            )
        kind = FILE_KINDS.get(path.suffix.lower(), "json")
        try:
            ds = datasets.load_dataset(kind, data_files=str(path), split="train")
        except Exception as err:  # a malformed file: name it, never a traceback
            raise ConfigError(
                f"{key}={task.name}: cannot read {where} as {kind} ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''})"
            ) from None
    else:
        hub_split = table.hub_splits.get(split, split)
        try:
            ds = datasets.load_dataset(where, table.config, split=hub_split)
        except (ConnectionError, OSError, ValueError) as err:
            raise MissingDataError(
                f"{key}={task.name} could not be loaded from the hub ({where}, split "
                f"{hub_split}): {type(err).__name__}. Offline, download it elsewhere and pass "
                f"{key}.path=<file.jsonl, .json, .parquet or .csv> with {columns}."
            ) from None
    # A task's default solution column is optional (a local copy may lack it); the user's is not.
    wanted = [c for c in (table.question, table.answer, task.options.solution) if c]
    missing = [c for c in wanted if c.split(".")[0] not in ds.column_names]
    if missing:
        raise ConfigError(
            f"{key}={task.name}: {where} lacks column(s) {missing}; it has {ds.column_names}. "
            f"Set {key}.question=<column> and {key}.answer=<column> (and {key}.solution=<column> "
            f"for worked solutions)."
        )
    return ds


def _get(row: Mapping[str, Any], column: str) -> Any:
    """``row[column]``; ``a.b`` reads field ``b`` of a nested record ``a``."""
    value: Any = row
    for part in column.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    """A question as text; a chat-style list of messages gives its last user message."""
    if isinstance(value, list) and value and isinstance(value[-1], Mapping):
        users = [m for m in value if m.get("role", "user") == "user"]
        return str((users or value)[-1].get("content", ""))
    return "" if value is None else str(value)


def extract_answer(text: str, answer_format: str) -> str:
    """The reference answer written in ``text`` (``""`` when there is none)."""
    if answer_format == "gsm8k":
        return text.split("####")[-1].strip().replace(",", "")
    if answer_format == "boxed":
        boxed = last_boxed(text)
        return (boxed if boxed is not None else text).strip()
    return text.strip()


def last_boxed(text: str) -> str | None:
    """The contents of the last ``\\boxed{…}`` (or ``\\fbox{…}``), braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth, j = 1, i
    while j < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        j += 1
    return text[i : j - 1] if depth == 0 else None
