"""Built-in algorithms. Importing this package registers each one (timm-style eager import)."""

from creditzoo.algorithms import (
    base,  # noqa: F401  (first: the registry imports it)
    cepo,  # noqa: F401
    craft,  # noqa: F401
    egrsd,  # noqa: F401
    grpo,  # noqa: F401
    opsd,  # noqa: F401
    rlcsd,  # noqa: F401
    rlrt,  # noqa: F401
    rlsd,  # noqa: F401
)
