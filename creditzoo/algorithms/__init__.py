"""Built-in algorithms. Importing this package registers each one (timm-style eager import).

``base`` holds the ``Algorithm`` class, its registry and ``register``; ``ops`` the public tensor
helpers plugins build on. Each built-in module imports ``base`` and registers itself; nothing here
is imported by ``base``, so there is no import circle.
"""

from creditzoo.algorithms import (  # noqa: F401  (each registers on import)
    cepo,
    craft,
    egrsd,
    grpo,
    opsd,
    oracle,
    rlcsd,
    rlrt,
    rlsd,
    sdpg,
    sdpo,
    srpo,
)
from creditzoo.algorithms.base import (
    ALGORITHMS,
    Algorithm,
    TeacherSpec,
    algorithm_defaults,
    build_algorithm,
    get_algorithm,
    list_algorithms,
    param,
    register,
)

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "TeacherSpec",
    "algorithm_defaults",
    "build_algorithm",
    "get_algorithm",
    "list_algorithms",
    "param",
    "register",
]
