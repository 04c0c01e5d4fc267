"""`creditzoo list`: what can be plugged in."""

from __future__ import annotations

from creditzoo.algorithms import algorithm_defaults, get_algorithm, list_algorithms
from creditzoo.data.sources import SOURCES
from creditzoo.harness.benchmarks import BENCHMARKS
from creditzoo.models.factory import MODELS


def print_listing() -> None:
    print("algorithms:")
    for name in list_algorithms():
        cls = get_algorithm(name)
        params = ", ".join(f"{k}={v!r}" for k, v in algorithm_defaults(name).items())
        requires = ", ".join(sorted(cls.requires)) or "-"
        extra = "".join(f"+{c} " for c in sorted(cls.components))
        print(f"  {name:<13} requires={requires:<45} {extra}{params}")
    print("models:     " + ", ".join(MODELS))
    print("data:       " + ", ".join(sorted(SOURCES)))
    print("benchmarks: " + ", ".join(f"{b.name} ({b.description})" for b in BENCHMARKS.values()))
