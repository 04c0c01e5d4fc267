"""Privileged contexts: what the teacher is shown besides the problem (DESIGN §4).

A context is a function registered by name. A *positive* context renders the user turn of row
``row``'s teacher prompt; a *negative* (wrong-answer) context renders up to K of them from the
row's rejected siblings. Both read the row's group through ``GroupOutcome`` and the run's
templates (``data.privileged_templates`` over ``DEFAULT_TEMPLATES``); the teacher provider wraps
the text into the model's prompt format. A plugin adds a context with
``@CONTEXTS.register("mine")`` on a function of the same signature, and selects it in its
algorithm's ``TeacherSpec(context="mine")``.

A positive context may return None: the row has no valid context (e.g. no other correct
sibling). The teacher provider then scores the row under ``answer`` and reports it False in
``teacher_mask``, so an algorithm that needs the context (RLCSD) drops the row. Random choices
come from ``GroupOutcome.rng``, seeded by (run seed, step, problem uid, row, purpose): a resumed
run, another micro-batch size or another number of ranks draws the same.

Built-ins:
  answer           the reference answer only (RLSD's default)
  solution         the reference solution (OPSD's default)
  correct_sibling  a correct sibling's response, drawn at random from the correct siblings other
                   than the row and with a text different from the row's (RLCSD); None when
                   there is none
  first_correct_sibling  the first correct sibling in row order other than the row itself,
                   text duplicates allowed (SDPO's demonstration, lasgroup/SDPO
                   ``RayPPOTrainer._get_solution`` with ``dont_reprompt_on_self_success``); None
                   when the row has no correct sibling
  wrong_answer     (negative) CEPO's official choice: the group's worst rejected (not correct)
                   rollout (lowest reward, ties → first index), for every row of the group
                   *including itself*: its parsed answer, or its first 50 characters when none
                   parses; one context
  wrong_answer_distinct  (negative) per row: up to K distinct wrong answers of the row's rejected
                   siblings (never the row's own), worst reward then most frequent first
  wrong_sibling    (negative) RLCSD: up to K wrong siblings with a parsed answer drawn at random
                   without replacement (the same answer may come from several siblings: a
                   frequency-weighted mixture), never the row itself nor a text equal to the
                   row's; each in the ``correct_sibling`` template, as the positive
"""

from __future__ import annotations

import random
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
    """A row's group: its problem and every sibling's response and verdict, in row order.

    Attributes:
        seed, step: the run's seed and the rollout step, for ``rng``.
    """

    problem: Problem
    texts: Sequence[str]
    verdicts: Sequence[VerifyResult]
    seed: int = 0
    step: int = 0

    def rng(self, row: int, purpose: str) -> random.Random:
        """A generator for one row's draws, a function of (seed, step, problem, row, purpose)."""
        return random.Random(f"{self.seed}/{self.step}/{self.problem.uid}/{row}/{purpose}")


# Contexts that show the teacher the reference worked solution: a run on a task without
# solutions is refused at start-up. A plugin context that reads ``problem.solution`` adds its name.
SOLUTION_CONTEXTS: set[str] = {"solution"}

Templates = Mapping[str, str]
PositiveContext = Callable[[GroupOutcome, int, Templates], "str | None"]
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
def correct_sibling(group: GroupOutcome, row: int, templates: Templates) -> str | None:
    """A correct sibling drawn at random; None when no correct sibling differs from the row."""
    pool = [j for j in _others(group, row) if group.verdicts[j].correct]
    if not pool:
        return None
    j = group.rng(row, "positive").choice(pool)
    return _sibling(group, j, templates)


@CONTEXTS.register("first_correct_sibling")
def first_correct_sibling(group: GroupOutcome, row: int, templates: Templates) -> str | None:
    """The first correct sibling by index (never the row); None when there is none."""
    pool = [j for j in range(len(group.texts)) if j != row and group.verdicts[j].correct]
    return _sibling(group, pool[0], templates) if pool else None


@NEGATIVE_CONTEXTS.register("wrong_sibling")
def wrong_sibling(group: GroupOutcome, row: int, k: int, templates: Templates) -> list[str]:
    """Up to k rejected siblings with a parsed answer, at random without replacement."""
    pool = [j for j in _others(group, row) if _is_wrong(group, j) and group.verdicts[j].parsed]
    chosen = group.rng(row, "negatives").sample(pool, min(k, len(pool)))
    return [_sibling(group, j, templates) for j in chosen]


@NEGATIVE_CONTEXTS.register("wrong_answer")
def wrong_answer(group: GroupOutcome, row: int, k: int, templates: Templates) -> list[str]:
    """The group's worst rejected rollout, for every row (its own included); [] when none."""
    rejected = [j for j in range(len(group.texts)) if _is_wrong(group, j)]
    if not rejected:
        return []
    worst = min(rejected, key=lambda j: group.verdicts[j].reward)  # min keeps the first on ties
    answer = group.verdicts[worst].parsed or group.texts[worst][:50]
    if not answer.strip():  # the official code falls back to the reference: Δ = 0, as here
        return []
    return [fill(templates["answer"], group.problem, answer=answer)]


@NEGATIVE_CONTEXTS.register("wrong_answer_distinct")
def wrong_answer_distinct(group: GroupOutcome, row: int, k: int, templates: Templates) -> list[str]:
    return [
        fill(templates["answer"], group.problem, answer=a)
        for a, _ in rejected_siblings(group, row, k)
    ]


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


def _others(group: GroupOutcome, row: int) -> list[int]:
    """Siblings of ``row`` that are neither the row nor a copy of its text."""
    own = group.texts[row]
    return [j for j, text in enumerate(group.texts) if j != row and text != own]


def _is_wrong(group: GroupOutcome, j: int) -> bool:
    return not group.verdicts[j].correct


def _sibling(group: GroupOutcome, j: int, templates: Templates) -> str:
    """Sibling j's response and its answer in the ``correct_sibling`` template (both signs)."""
    answer = group.verdicts[j].parsed or group.problem.answer
    return fill(templates["correct_sibling"], group.problem, response=group.texts[j], answer=answer)
