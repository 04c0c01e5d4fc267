"""A task added by a plugin: ``doubles``, "Compute n+n." with n in 1..40 (train) or 101..140
(test), written in the built-in arithmetic's format so that the tiny default model can train on
it at once (``creditzoo fit data=doubles``, ``creditzoo eval benchmark=doubles``).

A task is a ``creditzoo.tasks.Task``: its splits, a loader that returns a split's problems in a
fixed order, and the defaults a run reads (prompt template, generation length, teacher
templates). Registering it under the entry-point name is all creditzoo needs; training on a
finite split (seeded epochs, exact resume, several ranks) comes with it.
"""

from __future__ import annotations

from creditzoo.data.arith_steps import check_arith_steps
from creditzoo.data.problem import Problem
from creditzoo.tasks import Task, register_task

FIRST = {"train": 1, "test": 101}


def load(task: Task, split: str, limit: int | None) -> list[Problem]:
    """The 40 problems of ``split``, in order."""
    start = FIRST[split]
    return [
        Problem(
            uid=f"doubles-{split}-{n}",
            problem=f"Compute {n}+{n}.",
            answer=str(2 * n),
            solution=f"{n}+{n}={2 * n}. \\boxed{{{2 * n}}}",
        )
        for n in range(start, start + 40)
    ]


register_task(
    Task(
        "doubles",  # must equal the entry-point name
        "Compute n+n (the example plugin's task)",
        splits=("train", "test"),
        load=load,
        train_splits=("train",),
        prompt_template="{problem}",  # the tiny model's format; chat models want "instruction"
        max_new_tokens=32,
        has_solutions=True,
        # "n+n=2n." is an arith step: the built-in checker locates a wrong one, which gives
        # this task process_labels (so `algorithm=oracle` and `creditzoo audit` work on it).
        check_steps=check_arith_steps,
        # The hint format the tiny model learned in its warm start (as the arith task's).
        privileged_templates={
            "answer": "{problem} (Reference answer: {answer})",
            "solution": "{problem} (Reference solution: {solution})",
            "correct_sibling": "{problem} (Reference solution: {response})",
        },
        privileged_templates_version="doubles-v1",
    )
)
