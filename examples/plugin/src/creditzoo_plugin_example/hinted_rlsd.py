"""RLSD whose teacher is shown only the last step of the reference solution.

An example of a plugin that brings its own privileged context: ``final_step`` is registered in
creditzoo's context registry when this module is imported (creditzoo imports it through the
entry point), and the algorithm names it in its ``TeacherSpec``. Nothing in creditzoo is edited.

Formula: exactly RLSD's ("Self-Distilled RLVR", arXiv 2604.03128; ``creditzoo.algorithms.rlsd``):
  Â[i, t] = A_i·((1−λ) + λ·clip(exp(sign(A_i)·Δ[i, t]), 1−ε_w, 1+ε_w)),  Δ = teacher − student
with the teacher conditioned on "(Last step: …)" instead of the reference answer. A weaker hint
than the answer itself, so Δ measures how much the final computation alone explains each token.

Reads: as rlsd (rewards, group_ids, response_mask, logprobs, teacher_logprobs [N, T]).
"""

from __future__ import annotations

from dataclasses import dataclass

from creditzoo import TeacherSpec, register
from creditzoo.algorithms.rlsd import RLSD
from creditzoo.providers.contexts import CONTEXTS, GroupOutcome, Templates, fill

FINAL_STEP_TEMPLATE = "{problem} (Last step: {step})"


@CONTEXTS.register("final_step")
def final_step(group: GroupOutcome, row: int, templates: Templates) -> str:
    """The problem and the last ``a op b=c.`` step of its reference solution."""
    steps = [s for s in group.problem.solution.split(".") if "=" in s]
    last = steps[-1].strip() if steps else group.problem.answer
    template = templates.get("final_step", FINAL_STEP_TEMPLATE)
    return fill(template, group.problem, step=last)


@register("hinted_rlsd")
@dataclass
class HintedRLSD(RLSD):
    """RLSD with the ``final_step`` context; parameters as rlsd's."""

    teacher = TeacherSpec(context="final_step", weights="snapshot")
