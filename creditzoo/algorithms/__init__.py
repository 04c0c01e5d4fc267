"""Built-in algorithms. Importing this package registers each one (timm-style eager import)."""

from creditzoo.algorithms import (
    base,  # noqa: F401  (first: the registry imports it)
    grpo,  # noqa: F401
)
