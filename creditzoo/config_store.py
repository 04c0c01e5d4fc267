"""Config-group options that come from code rather than YAML.

Every registered algorithm (built-in or plugin) becomes an ``algorithm/<name>`` option holding
its parameters' defaults, so ``algorithm=<name>`` needs no YAML file. Both the Hydra apps and the
start-up check (which composes before the app runs) call :func:`register_configs`.
"""

from __future__ import annotations

from hydra.core.config_store import ConfigStore

from creditzoo.algorithms import algorithm_defaults, list_algorithms


def register_configs() -> None:
    """One ``algorithm/<name>`` option per registered algorithm, from its dataclass defaults."""
    store = ConfigStore.instance()
    for name in list_algorithms():
        store.store(group="algorithm", name=name, node={"name": name, **algorithm_defaults(name)})


__all__ = ["register_configs"]
