"""`creditzoo list`: what can be plugged in."""

from __future__ import annotations

from creditzoo.data.sources import SOURCES
from creditzoo.models.factory import MODELS
from creditzoo.registry import algorithm_defaults, get_algorithm, list_algorithms


def print_listing() -> None:
    print("algorithms:")
    for name in list_algorithms():
        cls = get_algorithm(name)
        instance = cls()
        params = ", ".join(f"{k}={v!r}" for k, v in algorithm_defaults(name).items())
        requires = ", ".join(sorted(instance.requires)) or "-"
        print(f"  {name:<10} objective={cls.objective:<8} requires={requires:<30} {params}")
    print("models:   " + ", ".join(MODELS))
    print("data:     " + ", ".join(sorted(SOURCES)))
