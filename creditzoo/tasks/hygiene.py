"""Start-up data checks of `fit`: over-long prompts, and training problems that are also
evaluation problems (exact match after whitespace and case normalisation)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from creditzoo.data.problem import Problem


def normalise(text: str) -> str:
    """Lower case, whitespace runs collapsed: the key under which two problems are the same."""
    return " ".join(text.lower().split())


def drop_too_long(
    problems: Sequence[Problem], prompt_tokens: Callable[[Problem], int], limit: int | None
) -> tuple[list[Problem], int]:
    """The problems whose rendered prompt has at most ``limit`` tokens, and how many were not."""
    if limit is None:
        return list(problems), 0
    kept = [p for p in problems if prompt_tokens(p) <= limit]
    return kept, len(problems) - len(kept)


def overlap(
    train: Sequence[Problem], evals: Mapping[str, Sequence[Problem]]
) -> tuple[dict[str, int], set[str]]:
    """Per evaluation split, how many of its problems occur in training; and the normalised
    texts of the training problems that occur in some evaluation split."""
    seen = {normalise(p.problem) for p in train}
    per_split: dict[str, int] = {}
    shared: set[str] = set()
    for split, problems in evals.items():
        keys = [normalise(p.problem) for p in problems]
        hits = [k for k in keys if k in seen]
        per_split[split] = len(hits)
        shared.update(hits)
    return per_split, shared


def exclude(train: Sequence[Problem], shared: set[str]) -> list[Problem]:
    """``train`` without the problems whose normalised text is in ``shared``."""
    return [p for p in train if normalise(p.problem) not in shared]
