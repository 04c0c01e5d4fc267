"""Config-group options that come from code rather than YAML.

Every registered algorithm (built-in or plugin) becomes an ``algorithm/<name>`` option holding
its parameters' defaults, so ``algorithm=<name>`` needs no YAML file; every registered task
becomes a ``data/<name>`` and a ``benchmark/<name>`` option holding the task's defaults (prompt
template, teacher templates, generation length) and every data key left unset. Both the Hydra
apps and the start-up check (which composes before the app runs) call :func:`register_configs`.
"""

from __future__ import annotations

from typing import Any

from hydra.core.config_store import ConfigStore

from creditzoo.algorithms import algorithm_defaults, list_algorithms
from creditzoo.tasks import TASKS, Task

# The keys that say where a task's rows come from (null: the task's own default).
SOURCE_KEYS = ("path", "question", "answer", "solution", "split", "config", "answer_format")


def register_configs() -> None:
    """One ``algorithm/<name>`` option per algorithm; ``data/<name>`` and ``benchmark/<name>``
    per task."""
    store = ConfigStore.instance()
    for name in list_algorithms():
        store.store(group="algorithm", name=name, node={"name": name, **algorithm_defaults(name)})
    for name, task in TASKS.items():
        store.store(group="data", name=name, node=data_node(task))
        store.store(group="benchmark", name=name, node=benchmark_node(task))


def data_node(task: Task) -> dict[str, Any]:
    """``data=<task>``: what `fit` trains on, with the task's defaults written out."""
    return {
        "name": task.name,
        **dict.fromkeys(SOURCE_KEYS),
        "prompt_template": task.prompt_template,
        "max_new_tokens": task.max_new_tokens,
        "privileged_templates_version": task.privileged_templates_version,
        "privileged_templates": dict(task.privileged_templates),
        "max_prompt_tokens": None,  # longer prompts are skipped (finite datasets)
        "exclude_eval": False,  # drop training problems that are also evaluation problems
        "spec": dict(task.spec),
    }


def benchmark_node(task: Task) -> dict[str, Any]:
    """``benchmark=<task>``: what `eval` scores (null → the task's default)."""
    return {
        "name": task.name,
        "splits": None,
        **dict.fromkeys(SOURCE_KEYS),
        "prompt_template": None,
        "spec": dict(task.spec),
    }


__all__ = ["register_configs"]
