"""Process supervision: where in a response the reasoning first went wrong.

A task whose steps can be checked gives a ``StepChecker`` (``Task.check_steps``); the checker
returns a ``StepCheck`` over the response text, and ``alignment`` turns its character span into
per-token ``process_labels`` with the offsets of the sampled tokens themselves.
"""

from creditzoo.process.alignment import labels_for_row, token_offsets
from creditzoo.process.steps import CATEGORIES, LABEL_ERROR, LABEL_OTHER, LABEL_PREFIX, StepCheck

__all__ = [
    "CATEGORIES",
    "LABEL_ERROR",
    "LABEL_OTHER",
    "LABEL_PREFIX",
    "StepCheck",
    "labels_for_row",
    "token_offsets",
]
