"""Sampled evaluation of a policy on a list of problems: k samples each, verified, summarised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.harness.metrics import summarize
from creditzoo.rollout.sampler import Sampler
from creditzoo.verify import MathVerifier


@dataclass
class EvalResult:
    metrics: dict[str, float]
    items: list[dict[str, Any]] = field(default_factory=list)


def evaluate(
    sampler: Sampler,
    render: PromptRenderer,
    verifier: MathVerifier,
    problems: list[Problem],
    *,
    k: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 64,
    seed: int = 1234,
) -> EvalResult:
    """avg@k / pass@k over ``problems``; the RNG is forked so training draws are untouched."""
    prompts = [render(p) for p in problems for _ in range(k)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        seqs = sampler.generate(prompts, max_new_tokens=max_new_tokens, temperature=temperature)
    verdicts = verifier(seqs.texts, [p.answer for p in problems for _ in range(k)])
    lengths = seqs.response_mask.sum(dim=1).tolist()
    correct, items = [], []
    for i, problem in enumerate(problems):
        rows = range(i * k, (i + 1) * k)
        correct.append([verdicts[r].correct for r in rows])
        items.append(
            {
                "uid": problem.uid,
                "answer": problem.answer,
                "correct": correct[-1],
                "parsed": [verdicts[r].parsed for r in rows],
                "status": [verdicts[r].status for r in rows],
            }
        )
    metrics = summarize(correct, k, [item["parsed"] for item in items])
    metrics["response_length"] = sum(lengths) / max(len(lengths), 1)
    metrics["no_answer_rate"] = sum(v.status == "no_answer" for v in verdicts) / max(
        len(verdicts), 1
    )
    metrics["tokens_generated"] = float(sum(lengths))
    return EvalResult(metrics, items)
