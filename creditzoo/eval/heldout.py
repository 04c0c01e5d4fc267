"""Evaluation on fixed held-out splits: one path for validation during `fit` and for
`creditzoo eval` (both load their splits with ``creditzoo.tasks.load_split``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.eval.evaluate import EvalResult, evaluate
from creditzoo.rollout.sampler import Sampler
from creditzoo.verify.protocol import Verifier


@dataclass
class HeldOutEvaluation:
    """avg@k (and pass@k, maj@k) of the current policy on fixed held-out splits.

    Called (with the module, which it does not need), it returns
    ``{"val/<split>/<metric>": value}``; ``results()`` keeps every item as well."""

    sampler: Sampler
    render: PromptRenderer
    verifier: Verifier
    splits: Mapping[str, list[Problem]]
    k: int
    temperature: float
    max_new_tokens: int
    seed: int

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
        return out
