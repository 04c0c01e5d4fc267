"""The verdict of a step checker on one response: its category and its first wrong step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from creditzoo.data.problem import Problem

# correct: right answer through right steps; wrong: a located first error; lucky: right answer
# through a wrong step; unparseable: nothing that reads as a step or an answer.
CATEGORIES = ("correct", "wrong", "lucky", "unparseable")

# Per-token process labels (RolloutBatch.process_labels).
LABEL_PREFIX = 1  # a token of the correct prefix (every token of a correct response)
LABEL_ERROR = 0  # a token of the first wrong step
LABEL_OTHER = -1  # after the first wrong step, padding, or not applicable


@dataclass(frozen=True)
class StepCheck:
    """One response checked step by step against the task's canonical solution.

    Attributes:
        category: one of ``CATEGORIES``.
        first_error: k*, the 0-based index of the first wrong step (the final answer counts as
            the step after the last one); None for correct and unparseable responses.
        span: ``(start, end)`` characters of step k* in the response text; ``start == end``
            when the step is missing at the end of the text (the error is the stop itself).
        kind: how step k* is wrong: ``operand``, ``operator``, ``result``, ``malformed``,
            ``missing``, ``extra``, ``answer``, or ``order`` (an operation of the expression
            that precedence does not allow yet); None without a located error.
    """

    category: str
    first_error: int | None = None
    span: tuple[int, int] | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {CATEGORIES}, got {self.category!r}")
        located = self.span is not None
        if located != (self.category in ("wrong", "lucky")):
            raise ValueError(f"a {self.category} response {'has' if located else 'needs'} a span")

    @property
    def located(self) -> bool:
        return self.span is not None


StepChecker = Callable[[Problem, str], StepCheck]
