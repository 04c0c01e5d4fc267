"""`creditzoo list`: what can be plugged in."""

from __future__ import annotations

from creditzoo.data.sources import SOURCES
from creditzoo.harness.benchmarks import BENCHMARKS
from creditzoo.models.factory import MODELS
from creditzoo.registry import algorithm_defaults, get_algorithm, list_algorithms


def print_listing() -> None:
    print("algorithms:")
    for name in list_algorithms():
        cls = get_algorithm(name)
        instance = cls()
        params = ", ".join(f"{k}={v!r}" for k, v in algorithm_defaults(name).items())
        requires = ", ".join(sorted(instance.requires)) or "-"
        print(f"  {name:<13} objective={instance.objective:<8} requires={requires:<45} {params}")
    print("models:     " + ", ".join(MODELS))
    print("data:       " + ", ".join(sorted(SOURCES)))
    print("benchmarks: " + ", ".join(f"{b.name} ({b.description})" for b in BENCHMARKS.values()))
