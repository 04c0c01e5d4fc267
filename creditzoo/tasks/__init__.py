"""Tasks: math datasets for training (`data=<task>`) and evaluation (`benchmark=<task>`).

``Task`` and its registry (``base``), the tabular loader for hub datasets and local files
(``tabular``), the built-ins (``builtin``), shared split loading (``splits``), seeded epochs over
a finite training split (``stream``) and the start-up data checks of `fit` (``hygiene``).
"""

from creditzoo.tasks import builtin as _builtin  # noqa: F401  (registers the built-in tasks)
from creditzoo.tasks.base import (
    ENTRY_POINT_GROUP,
    TASKS,
    TEMPLATES,
    Task,
    TaskOptions,
    TrainStream,
    get_task,
    list_tasks,
    register_task,
    resolve_template,
)
from creditzoo.tasks.splits import Split, data_hash, load_split
from creditzoo.tasks.tabular import Table, tabular_task

__all__ = [
    "ENTRY_POINT_GROUP",
    "TASKS",
    "TEMPLATES",
    "Split",
    "Table",
    "Task",
    "TaskOptions",
    "TrainStream",
    "data_hash",
    "get_task",
    "list_tasks",
    "load_split",
    "register_task",
    "resolve_template",
    "tabular_task",
]
