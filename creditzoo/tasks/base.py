"""The Task: one definition of a math dataset for training (`data=<task>`) and evaluation
(`benchmark=<task>`, `eval.benchmark=<task>`).

A task names its splits (which can be trained on, which are evaluated by default), how a split's
problems are loaded, the prompt template and generation length its problems want, how its
reference answers are written, whether it carries worked solutions and checkable steps, and the
privileged-context templates a self-distilling teacher sees. A generated task (``arith``) also
has an endless training ``stream``; any other task trains on a finite split in seeded epochs
(``creditzoo.tasks.stream``).

The user's ``data.*`` / ``benchmark.*`` keys (a local file, other columns, the arith spec) reach a
task as ``TaskOptions``; ``Task.configure(options)`` returns the task as the user set it up, and
that configured task is what every consumer reads. Plugins register tasks with
``register_task(Task(...))`` in a module declared under the ``creditzoo.tasks`` entry-point group.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from creditzoo.data.problem import Problem
from creditzoo.errors import ConfigError
from creditzoo.process.steps import StepChecker
from creditzoo.registry import Registry

ENTRY_POINT_GROUP = "creditzoo.tasks"

INSTRUCTION = (
    "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}."
)
# Named prompt templates, usable as data.prompt_template=<name> (a literal template works too).
TEMPLATES = {"bare": "{problem}", "instruction": INSTRUCTION}

# Teacher prompts for chat models, after the papers' (research/algorithms.md §3.1, §9.1): the
# solution context is OPSD's teacher message; the answer and sibling contexts use RLCSD's
# "reference solution" wrapper (identical for correct and wrong hints, so style cancels).
_THEN = "\n\nPlease reason step by step, and put your final answer within \\boxed{{}}."
CHAT_TEMPLATES: Mapping[str, str] = {
    "answer": (
        "{problem}\n\nThe correct final answer to this problem is: {answer}\n\nAfter "
        "understanding why this answer is correct, now articulate your own step-by-step "
        "reasoning that derives it." + _THEN
    ),
    "solution": (
        "{problem}\n\nHere is a reference solution to this problem:\n{solution}\n\n\nAfter "
        "understanding the reference solution and the rationale behind each step, now "
        "articulate your own step-by-step reasoning that derives the same final answer to the "
        "problem below:\n" + _THEN
    ),
    "correct_sibling": (
        "Problem: {problem}\n\nHere is a reference solution to this problem:\n=== Reference "
        "Solution Begin ===\n{response}\n\nCorrect final answer: {answer}\n=== Reference Solution "
        "End ===\n\nAfter reading the reference solution above, make sure you understand the "
        "reasoning behind each step." + _THEN
    ),
}
CHAT_TEMPLATES_VERSION = "chat-v1"

ANSWER_FORMATS = ("boxed", "gsm8k", "plain")


def resolve_template(template: str) -> str:
    """A named template (``bare``, ``instruction``) as its text; a literal one unchanged."""
    return TEMPLATES.get(template, template)


class TrainStream(Protocol):
    """The global training batch of any step: a pure function of (seed, step)."""

    def train_batch(self, step: int, n: int) -> list[Problem]: ...


@dataclass(frozen=True)
class TaskOptions:
    """The user's choices for a task, from the ``data.*`` or ``benchmark.*`` config keys.

    ``key`` names that section, so that messages say which setting to change."""

    path: str | None = None  # a hub id or a local .jsonl/.json/.parquet/.csv file
    question: str | None = None  # column names (``a.b`` reads a nested field)
    answer: str | None = None
    solution: str | None = None
    split: str | None = None  # fit: the split to train on; eval: the split to evaluate
    config: str | None = None  # the hub dataset's configuration (subset)
    answer_format: str | None = None  # boxed | gsm8k | plain
    spec: Mapping[str, Any] = field(default_factory=dict)  # a generated task's parameters
    key: str = "data"

    @classmethod
    def from_section(cls, section: Mapping[str, Any], key: str) -> TaskOptions:
        names = {f.name for f in dataclasses.fields(cls)} - {"key", "spec"}
        values = {k: section.get(k) for k in names}
        return cls(**values, spec=dict(section.get("spec") or {}), key=key)


Loader = Callable[["Task", str, "int | None"], list[Problem]]


@dataclass(frozen=True)
class Task:
    """One math dataset, for training and for evaluation.

    Attributes:
        name: registry key (``data=<name>``, ``benchmark=<name>``).
        description: one line for ``creditzoo list``.
        splits: the splits ``load`` can return, in a fixed order.
        load: ``load(task, split, limit) -> problems`` in a fixed order; rows without a reference
            answer may be included with ``answer=""`` (they are skipped and counted by
            ``load_split``); ``limit`` is a hint for generated splits (make only that many).
        train_splits: the splits `fit` may train on (the first is the default; a generated task
            names its stream's split here, ``train`` for arith).
        eval_splits: evaluated by default; None → the splits not trained on (or all of them).
        prompt_template: a named template or a literal ``str.format`` string.
        max_new_tokens: default generation length.
        answer_format: how reference answers are written (boxed | gsm8k | plain).
        has_solutions: problems carry worked solutions (the teacher's ``solution`` context).
        check_steps: the step checker (``creditzoo.process.StepChecker``): a response's
            category and first wrong step, which ``process_labels`` are made of; None when
            steps cannot be checked.
        privileged_templates: the teacher's context templates (answer, solution,
            correct_sibling), ``privileged_templates_version`` names them.
        stream: ``stream(task, seed)`` for a generated task's endless training data.
        configure_with: ``configure_with(task, options)`` applies the user's options (a tabular
            task takes other columns or a local file; arith takes its spec).
        spec: a generated task's default parameters (``data.spec``).
        details: loader-specific data (a tabular task's hub id and columns).
        options: the user's options, once configured.
    """

    name: str
    description: str
    splits: tuple[str, ...]
    load: Loader
    train_splits: tuple[str, ...] = ()
    eval_splits: tuple[str, ...] | None = None
    prompt_template: str = "instruction"
    max_new_tokens: int = 1024
    answer_format: str = "boxed"
    has_solutions: bool = False
    check_steps: StepChecker | None = None
    privileged_templates: Mapping[str, str] = field(default_factory=lambda: dict(CHAT_TEMPLATES))
    privileged_templates_version: str = CHAT_TEMPLATES_VERSION
    stream: Callable[[Task, int], TrainStream] | None = None
    configure_with: Callable[[Task, TaskOptions], Task] | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    details: Any = None
    options: TaskOptions = field(default_factory=TaskOptions)

    @property
    def steps_checkable(self) -> bool:
        return self.check_steps is not None

    @property
    def default_eval_splits(self) -> tuple[str, ...]:
        if self.eval_splits is not None:
            return self.eval_splits
        held_out = tuple(s for s in self.splits if s not in self.train_splits)
        return held_out or self.splits

    def configure(self, options: TaskOptions) -> Task:
        """This task as the user set it up (the defaults when ``options`` is empty)."""
        task = dataclasses.replace(self, options=options)
        if self.configure_with is not None:
            return self.configure_with(task, options)
        if options.path or options.question or options.answer or options.solution:
            raise ConfigError(
                f"{options.key}={self.name} is not read from a file; {options.key}.path and the "
                f"column keys apply to tabular tasks (e.g. {options.key}=hf)"
            )
        return task

    def train_split(self) -> str:
        """The split `fit` trains on: ``data.split`` or the task's first training split."""
        key = self.options.key
        if not self.train_splits:
            raise ConfigError(
                f"task {self.name!r} is for evaluation only (split(s) {', '.join(self.splits)}); "
                f"train on another task (e.g. data=gsm8k) and evaluate on this one with "
                f"eval.benchmark={self.name}"
            )
        split = self.options.split or self.train_splits[0]
        if split not in self.train_splits:
            raise ConfigError(
                f"{key}={self.name} trains on split(s) {', '.join(self.train_splits)}, not "
                f"{split!r} (set {key}.split={self.train_splits[0]})"
            )
        return split

    def check_splits(self, splits: list[str] | tuple[str, ...], setting: str) -> None:
        """Every requested split exists, or one ``ConfigError`` lists the task's splits."""
        bad = [s for s in splits if s not in self.splits]
        if bad:
            raise ConfigError(
                f"task {self.name!r} has split(s) {', '.join(self.splits)}, not "
                f"{', '.join(map(repr, bad))} (set {setting}=[{', '.join(self.splits)}])"
            )


def _check_task(name: str, task: Task) -> None:
    if not isinstance(task, Task):
        raise TypeError(f"task {name!r} must be a creditzoo.tasks.Task, got {type(task).__name__}")
    if task.name != name:
        raise ValueError(f"task registered as {name!r} is named {task.name!r}")


TASKS: Registry[Task] = Registry(
    "task", config_key="data", entry_point_group=ENTRY_POINT_GROUP, check=_check_task
)


def register_task(task: Task) -> Task:
    """Add ``task`` under its name (a plugin does this in its entry-point module).

    The same task again is a no-op (a module imported twice); another one under a taken name is
    refused, naming the module that holds the name."""
    existing = TASKS.registered(task.name)
    if existing is not None and existing != task:
        raise ValueError(
            f"task name {task.name!r} is already registered by {existing.load.__module__}; "
            f"{task.load.__module__} cannot take it — choose another name"
        )
    return existing or TASKS.register(task.name, task)


def get_task(name: str, options: TaskOptions | None = None) -> Task:
    """The task registered as ``name``, configured with ``options``; unknown names list the
    known ones."""
    return TASKS.get(name).configure(options or TaskOptions())


def list_tasks() -> list[str]:
    """Sorted names of every task, built-ins and installed plugins."""
    return TASKS.names()
