"""Result type of answer verification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


class VerifyStatus:
    """Status strings of a :class:`VerifyResult`.

    Plain ``str`` constants rather than an Enum so statuses drop straight into log keys and JSON
    (a ``str``-mixin Enum formats as ``VerifyStatus.OK`` on Python 3.11+).
    """

    OK: Final = "ok"
    """The prediction had an answer and it was graded (``correct`` says how)."""
    NO_ANSWER: Final = "no_answer"
    """No answer could be extracted from the prediction."""
    TIMEOUT: Final = "timeout"
    """Grading exceeded the per-item time limit; the worker was killed."""
    ERROR: Final = "error"
    """Grading raised, or the worker crashed on this item twice."""
    ALL: Final = ("ok", "no_answer", "timeout", "error")


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of grading one completion against its reference answer.

    ``reward`` is 1.0 only for status "ok" with a correct answer; every failure mode is 0.0, so a
    trainer can use it directly and look at ``status`` only for diagnostics.
    """

    reward: float
    correct: bool
    status: str
    """One of :attr:`VerifyStatus.ALL`."""
    parsed: str | None
    """String form of the extracted answer, or None when nothing was extracted."""
