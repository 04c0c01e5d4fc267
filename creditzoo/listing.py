"""`creditzoo list`: what can be plugged in, read from the registries.

Nothing is instantiated or loaded: algorithms are described by their class-level capabilities
(``requires``, ``teacher``, ``components``) and their parameters' defaults, the other parts by
their registered names and one-line descriptions.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from creditzoo.algorithms import ALGORITHMS, algorithm_defaults
from creditzoo.algorithms.base import TeacherSpec
from creditzoo.models.factory import MODELS
from creditzoo.rollout.sampler import ENGINES
from creditzoo.tasks import TASKS, Task
from creditzoo.verify.protocol import VERIFIERS


def listing() -> str:
    """The text `creditzoo list` prints."""
    lines = ["algorithms:"]
    for name, cls in ALGORITHMS.items():
        lines.append(f"  {name}")
        lines.append(f"      requires:   {', '.join(sorted(cls.requires)) or '-'}")
        lines.append(f"      teacher:    {_teacher(cls.teacher)}")
        lines.append(f"      components: {', '.join(sorted(cls.components)) or '-'}")
        lines.append(f"      parameters: {_params(algorithm_defaults(name))}")
    lines.append("models:")
    lines += [f"  {name:<14} {spec.description}" for name, spec in MODELS.items()]
    lines.append("tasks (data=<task> trains, benchmark=<task> evaluates):")
    for name, task in TASKS.items():
        lines.append(f"  {name:<14} {task.description}")
        lines.append(f"      splits:     {_splits(task)}")
    lines.append("rollout engines:")
    lines += [f"  {name:<14} {_doc(factory)}" for name, factory in ENGINES.items()]
    lines.append("verifiers:")
    lines += [f"  {name:<14} {_doc(factory)}" for name, factory in VERIFIERS.items()]
    return "\n".join(lines)


def print_listing() -> None:
    print(listing())


def _splits(task: Task) -> str:
    """``train: train; eval: test`` (a generated training split is marked as such)."""
    train = [
        f"{s} (generated)" if task.stream and s not in task.splits else s for s in task.train_splits
    ]
    parts = [f"train: {', '.join(train)}"] if train else ["train: -"]
    parts.append(f"eval: {', '.join(task.default_eval_splits)}")
    others = [s for s in task.splits if s not in task.train_splits + task.default_eval_splits]
    if others:
        parts.append(f"also: {', '.join(others)}")
    flags = [
        f
        for f, on in (("solutions", task.has_solutions), ("checkable steps", task.steps_checkable))
        if on
    ]
    return "; ".join(parts) + (f" ({', '.join(flags)})" if flags else "")


def _teacher(spec: TeacherSpec | None) -> str:
    if spec is None:
        return "-"
    defaults = TeacherSpec()
    shown = {
        f.name: getattr(spec, f.name)
        for f in fields(spec)
        if f.name in ("context", "weights") or getattr(spec, f.name) != getattr(defaults, f.name)
    }
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def _params(defaults: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in defaults.items()) or "-"


def _doc(obj: object) -> str:
    """First line of the docstring; for a lazily registered part, its import target."""
    target = getattr(obj, "target", None)
    if isinstance(target, str):
        return f"(loaded on use from {target})"
    doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    return doc[0].replace("``", "") if doc else ""
