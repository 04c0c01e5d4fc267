"""The provider interface and the start-up check that every required field has a provider."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from torch import Tensor

from creditzoo.data.problem import Problem
from creditzoo.errors import ConfigError
from creditzoo.rollout.sequences import Sequences
from creditzoo.types import RolloutBatch
from creditzoo.verify.result import VerifyResult


@dataclass(frozen=True)
class StepInputs:
    """What a provider may read about one step's responses.

    Attributes:
        seqs: the sampled responses, N = prompts × group size rows, group-contiguous.
        problems: the step's prompts, one per group.
        group_size: rows per group.
        verdicts: the verifier's results, one per row; None in the first phase.
        behaviour: (log-probs, entropies or None) the loop already has from the training forward
            over these very tokens (its single-pass path); the policy pass is then skipped.
        step: the rollout step; seed: the run's seed (random draws of privileged contexts are
            a function of both, so a resumed run draws the same).
    """

    seqs: Sequences
    problems: Sequence[Problem]
    group_size: int
    verdicts: Sequence[VerifyResult] | None = None
    behaviour: tuple[Tensor, Tensor | None] | None = None
    step: int = 0
    seed: int = 0


@runtime_checkable
class Provider(Protocol):
    """Computes some ``RolloutBatch`` fields for a step.

    Attributes:
        name: key of its state in checkpoints (``"policy"``, ``"reference"``, ``"teacher"``).
        provides: the fields it can fill.
        needs_verdicts: whether ``score`` reads ``StepInputs.verdicts`` (then it runs after
            verification; otherwise while verification runs).
    """

    name: str
    provides: frozenset[str]
    needs_verdicts: bool

    def score(self, inputs: StepInputs, fields: frozenset[str]) -> dict[str, Tensor]:
        """The requested ``fields`` (a subset of ``provides``), each ``[N, ...]`` on the CPU."""
        ...

    def on_optimizer_step(self, steps_done: int) -> None:
        """Called after every optimizer step (e.g. a teacher snapshot follows the policy)."""
        ...

    def metrics(self, inputs: StepInputs, batch: RolloutBatch) -> Mapping[str, float]:
        """Figures about this step (``inputs`` with verdicts, the finished ``batch``), logged
        under the keys given."""
        ...

    def record(self) -> dict[str, Any]:
        """What ``results.json`` records about this provider (top-level keys); {} when nothing."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs (e.g. a teacher's own weights); {} when nothing."""
        ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class NoStateHooks:
    """The hooks of a provider that keeps no state and reports nothing (a base class)."""

    needs_verdicts = False

    def on_optimizer_step(self, steps_done: int) -> None:
        pass

    def metrics(self, inputs: StepInputs, batch: RolloutBatch) -> Mapping[str, float]:
        return {}

    def record(self) -> dict[str, Any]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass


# How a run gets each field that no default provider gives; named in the start-up error.
ENABLED_BY = {
    "ref_logprobs": "loss.kl_coef > 0 (a frozen copy of the initial policy scores the tokens)",
    "teacher_logprobs": "a teacher: the algorithm declares `teacher = TeacherSpec(...)`",
    "teacher_entropies": "a teacher: the algorithm declares `teacher = TeacherSpec(...)`",
    "teacher_mask": "a teacher: the algorithm declares `teacher = TeacherSpec(...)`",
    "teacher_topk_ids": "a teacher with top_k > 0 in its TeacherSpec",
    "teacher_topk_logprobs": "a teacher with top_k > 0 in its TeacherSpec",
    "neg_teacher_logprobs": "a teacher with negatives > 0 in its TeacherSpec",
    "neg_mask": "a teacher with negatives > 0 in its TeacherSpec",
    "process_labels": (
        "a task whose steps can be checked (data=arith; `creditzoo list` marks them 'checkable "
        "steps')"
    ),
}


def check_coverage(required: Iterable[str], providers: Sequence[Provider], who: str) -> None:
    """Fail at start-up, naming each required field no provider gives and what enables it."""
    available = set().union(*(p.provides for p in providers)) if providers else set()
    missing = sorted(set(required) - available)
    if not missing:
        return
    lines = [
        f"  {f}: needs {ENABLED_BY.get(f, 'a provider for it (none is configured)')}"
        for f in missing
    ]
    raise ConfigError(f"{who} requires field(s) this run cannot provide:\n" + "\n".join(lines))
