"""creditzoo: interchangeable credit-assignment algorithms for RL with verifiable rewards."""

from creditzoo.algorithms.base import Algorithm
from creditzoo.registry import (
    build_algorithm,
    get_algorithm,
    list_algorithms,
    register,
)
from creditzoo.types import Credit, RolloutBatch

__all__ = [
    "Algorithm",
    "Credit",
    "RolloutBatch",
    "build_algorithm",
    "get_algorithm",
    "list_algorithms",
    "register",
]
__version__ = "0.1.0"
