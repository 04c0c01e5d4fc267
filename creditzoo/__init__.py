"""creditzoo: interchangeable credit-assignment algorithms for RL with verifiable rewards."""

from creditzoo.algorithms import (
    Algorithm,
    TeacherSpec,
    build_algorithm,
    get_algorithm,
    list_algorithms,
    param,
    register,
)
from creditzoo.types import Credit, DistillTarget, RolloutBatch

__all__ = [
    "Algorithm",
    "Credit",
    "DistillTarget",
    "RolloutBatch",
    "TeacherSpec",
    "build_algorithm",
    "get_algorithm",
    "list_algorithms",
    "param",
    "register",
]
__version__ = "0.1.0"
