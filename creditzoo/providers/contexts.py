"""Privileged contexts: what the teacher is shown besides the problem (DESIGN §4).

A context is a function registered by name. A *positive* context renders the user turn of row
``row``'s teacher prompt; a *negative* (wrong-answer) context renders up to K of them from the
row's rejected siblings. Both read the row's group through ``GroupOutcome`` and the run's
templates (``data.privileged_templates`` over ``DEFAULT_TEMPLATES``); the teacher provider wraps
the text into the model's prompt format. A plugin adds a context with
``@CONTEXTS.register("mine")`` on a function of the same signature, and selects it in its
algorithm's ``TeacherSpec(context="mine")``.

Built-ins:
  answer           the reference answer only (RLSD's default)
  solution         the reference solution (OPSD's default)
  correct_sibling  a correct sibling's response, never the row's own; the answer when none
  wrong_answer     (negative) a rejected sibling's answer in the ``answer`` template (CEPO)
  wrong_sibling    (negative) a rejected sibling's response in the ``correct_sibling`` template
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

from creditzoo.data.problem import Problem
from creditzoo.registry import Registry
from creditzoo.verify.result import VerifyResult

DEFAULT_TEMPLATES = {
    "answer": "{problem} (Reference answer: {answer})",
    "solution": "{problem} (Reference solution: {solution})",
    "correct_sibling": "{problem} (Reference solution: {response})",
}


@dataclass(frozen=True)
class GroupOutcome:
    """A row's group: its problem and every sibling's response and verdict, in row order."""

    problem: Problem
    texts: Sequence[str]
    verdicts: Sequence[VerifyResult]


Templates = Mapping[str, str]
PositiveContext = Callable[[GroupOutcome, int, Templates], str]
NegativeContext = Callable[[GroupOutcome, int, int, Templates], list[str]]

CONTEXTS: Registry[PositiveContext] = Registry("teacher context", config_key="teacher.context")
NEGATIVE_CONTEXTS: Registry[NegativeContext] = Registry(
    "wrong-answer context", config_key="teacher.negative_context"
)


def fill(template: str, problem: Problem, **extra: str) -> str:
    """``template`` over the problem's fields (``{problem}``, ``{answer}``, …) and ``extra``."""
    return template.format(**{**asdict(problem), **extra})


@CONTEXTS.register("answer")
def answer(group: GroupOutcome, row: int, templates: Templates) -> str:
    return fill(templates["answer"], group.problem)


@CONTEXTS.register("solution")
def solution(group: GroupOutcome, row: int, templates: Templates) -> str:
    return fill(templates["solution"], group.problem)


@CONTEXTS.register("correct_sibling")
def correct_sibling(group: GroupOutcome, row: int, templates: Templates) -> str:
    """The next correct sibling after ``row``, cyclically (spreads the choice over the group)."""
    n = len(group.texts)
    for step in range(1, n):
        j = (row + step) % n
        if group.verdicts[j].correct:
            return fill(templates["correct_sibling"], group.problem, response=group.texts[j])
    return fill(templates["answer"], group.problem)  # no other correct response


def rejected_siblings(group: GroupOutcome, row: int, k: int) -> list[tuple[str, str]]:
    """Up to ``k`` (wrong answer, an example response) pairs, worst first.

    Worst = lowest reward, then the most frequent wrong answer; each answer is used once, and the
    row's own response is never its own negative."""
    wrong: Counter[str] = Counter()
    reward: dict[str, float] = {}
    example: dict[str, str] = {}
    for j, (text, v) in enumerate(zip(group.texts, group.verdicts, strict=True)):
        if j == row or v.correct or not v.parsed or v.parsed == group.problem.answer:
            continue
        wrong[v.parsed] += 1
        reward[v.parsed] = min(reward.get(v.parsed, v.reward), v.reward)
        example.setdefault(v.parsed, text)
    order = sorted(wrong, key=lambda a: (reward[a], -wrong[a]))[:k]
    return [(a, example[a]) for a in order]


@NEGATIVE_CONTEXTS.register("wrong_answer")
def wrong_answer(group: GroupOutcome, row: int, k: int, templates: Templates) -> list[str]:
    return [
        fill(templates["answer"], group.problem, answer=a)
        for a, _ in rejected_siblings(group, row, k)
    ]


@NEGATIVE_CONTEXTS.register("wrong_sibling")
def wrong_sibling(group: GroupOutcome, row: int, k: int, templates: Templates) -> list[str]:
    """The template mirrors ``correct_sibling``, so only the evidence differs."""
    return [
        fill(templates["correct_sibling"], group.problem, answer=a, response=text)
        for a, text in rejected_siblings(group, row, k)
    ]
