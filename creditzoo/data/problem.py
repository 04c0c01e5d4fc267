"""The one record every task yields, so rollout, verification and eval never care which task."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One prompt with its verifiable answer.

    Attributes:
        uid: stable id, unique within a split (it also encodes difficulty where a task has one).
        problem: the question text shown to the model, e.g. ``"Compute 16*8+4-1-14."``.
        answer: the reference final answer the verifier compares against, e.g. ``"117"``.
        solution: a reference worked solution (used for SFT warm starts), ending in
            ``\\boxed{answer}``.
    """

    uid: str
    problem: str
    answer: str
    solution: str
