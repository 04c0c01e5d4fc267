"""Evaluation on fixed held-out splits: one path for validation during `fit` and for
`creditzoo eval` (both load their splits with ``creditzoo.tasks.load_split``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.eval.evaluate import EvalResult, evaluate
from creditzoo.eval.metrics import summarize
from creditzoo.rollout.sampler import Sampler
from creditzoo.verify.protocol import Verifier


@dataclass
class HeldOutEvaluation:
    """avg@k (and pass@k, maj@k) of the current policy on fixed held-out splits.

    Called (with the module, which it does not need), it returns
    ``{"val/<split>/<metric>": value}``; ``results()`` keeps every item as well.

    The held-out curve: with ``curve_n`` or ``curve_k`` set, ``curve()`` — the periodic
    evaluation during training — samples only the first ``curve_n`` problems of each split with
    ``curve_k`` samples each and logs ``curve/<split>/acc``, and the full evaluations (before
    and after training) add the same figure from their own samples on that subset, so the curve
    has one estimator from start to end while the final numbers stay on the full set.
    Without either, ``curve()`` is the full evaluation (the periodic ``val/`` points)."""

    sampler: Sampler
    render: PromptRenderer
    verifier: Verifier
    splits: Mapping[str, list[Problem]]
    k: int
    temperature: float
    max_new_tokens: int
    seed: int
    curve_n: int | None = None  # problems per split in the curve; None: all
    curve_k: int | None = None  # samples per problem in the curve; None: k

    @property
    def has_subset(self) -> bool:
        return self.curve_n is not None or self.curve_k is not None

    def results(self) -> dict[str, EvalResult]:
        return {
            split: evaluate(
                self.sampler,
                self.render,
                self.verifier,
                problems,
                k=self.k,
                temperature=self.temperature,
                max_new_tokens=self.max_new_tokens,
                seed=self.seed,
            )
            for split, problems in self.splits.items()
        }

    def __call__(self, module: Any = None) -> dict[str, float]:
        out: dict[str, float] = {}
        for split, result in self.results().items():
            out |= {f"val/{split}/{k}": float(v) for k, v in result.metrics.items()}
            if self.has_subset:  # the curve's point, from these samples on the subset
                subset = [it["correct"][: self._curve_k] for it in result.items[: self.curve_n]]
                out |= _curve_point(split, subset, self._curve_k)
        return out

    def curve(self, module: Any = None) -> dict[str, float]:
        """The periodic evaluation: the fixed subset's accuracy (``curve/<split>/…``), or the
        full evaluation when no subset is set."""
        if not self.has_subset:
            return self(module)
        out: dict[str, float] = {}
        for split, problems in self.splits.items():
            result = evaluate(
                self.sampler,
                self.render,
                self.verifier,
                problems[: self.curve_n],
                k=self._curve_k,
                temperature=self.temperature,
                max_new_tokens=self.max_new_tokens,
                seed=self.seed,
            )
            out |= _curve_point(split, [it["correct"] for it in result.items], self._curve_k)
        return out

    @property
    def _curve_k(self) -> int:
        return self.curve_k if self.curve_k is not None else self.k


def _curve_point(split: str, correct: list[list[bool]], k: int) -> dict[str, float]:
    metrics = summarize(correct, k)
    return {f"curve/{split}/acc": metrics["acc"], f"curve/{split}/acc_se": metrics["acc_se"]}
