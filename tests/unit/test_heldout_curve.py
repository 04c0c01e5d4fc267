"""The held-out curve's fixed subset (eval.curve_n / curve_k) and accuracy by operator count,
on a fake sampler and verifier whose outcomes are known per problem."""

from types import SimpleNamespace

import pytest
import torch

from creditzoo.data.problem import Problem
from creditzoo.eval.difficulty import accuracy_by_difficulty, operator_count
from creditzoo.eval.heldout import HeldOutEvaluation

# Problem i has 1 + i % 4 operators; problems 0, 1, 2 are always answered right, the rest wrong.
PROBLEMS = [Problem(f"arith-id-{i:05d}-ops{1 + i % 4}", f"q{i}", "1", "") for i in range(6)]
RIGHT = {"q0", "q1", "q2"}


class Sampler:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def generate(self, prompts, max_new_tokens, temperature):
        self.calls.append(len(prompts))
        return SimpleNamespace(texts=list(prompts), response_mask=torch.ones(len(prompts), 2))


def verifier(texts, answers):
    return [
        SimpleNamespace(correct=t in RIGHT, parsed="1" if t in RIGHT else "2", status="ok")
        for t in texts
    ]


def _evaluation(sampler: Sampler, **curve) -> HeldOutEvaluation:
    return HeldOutEvaluation(
        sampler, lambda p: p.problem, verifier, {"id": PROBLEMS}, k=3, temperature=1.0,
        max_new_tokens=4, seed=0, **curve,
    )  # fmt: skip


def test_operator_count_from_uid() -> None:
    assert operator_count("arith-id-00012-ops3") == 3
    assert operator_count("gsm8k-17") is None


def test_full_evaluation_reports_accuracy_by_operator_count() -> None:
    out = _evaluation(Sampler())()
    # ops1: problems 0 (right), 4 (wrong) → 0.5 of 2; ops2: 1, 5 → 0.5 of 2; ops3: 2 → 1.0;
    # ops4: 3 → 0.0. Overall 3/6 = 0.5.
    assert out["val/id/acc"] == 0.5
    assert (out["val/id/acc_ops1"], out["val/id/n_ops1"]) == (0.5, 2.0)
    assert (out["val/id/acc_ops3"], out["val/id/n_ops3"]) == (1.0, 1.0)
    assert (out["val/id/acc_ops4"], out["val/id/n_ops4"]) == (0.0, 1.0)
    assert not any(k.startswith("curve/") for k in out)  # no subset configured
    items = [{"uid": "x-ops2", "correct": [True, False]}, {"uid": "plain", "correct": [True]}]
    assert accuracy_by_difficulty(items) == {"acc_ops2": 0.5, "n_ops2": 1.0}


def test_curve_uses_the_fixed_subset_and_the_full_run_reports_it_too() -> None:
    sampler = Sampler()
    evaluation = _evaluation(sampler, curve_n=4, curve_k=1)
    periodic = evaluation.curve()
    # The first 4 problems × 1 sample: 3 of 4 right → 0.75; only those were sampled.
    assert periodic == {"curve/id/acc": 0.75, "curve/id/acc_se": pytest.approx(0.25)}
    assert sampler.calls == [4]
    full = evaluation()
    # The full run samples all 6 × 3 and reports the same subset figure from its own samples.
    assert sampler.calls == [4, 18]
    assert full["val/id/acc"] == 0.5 and full["curve/id/acc"] == 0.75


def test_without_subset_the_periodic_evaluation_is_the_full_one() -> None:
    sampler = Sampler()
    out = _evaluation(sampler).curve()
    assert sampler.calls == [18] and out["val/id/acc"] == 0.5
