"""Sampled evaluation of a policy on a list of problems: k samples each, verified, summarised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.distributed import all_gather_objects, world
from creditzoo.eval.difficulty import accuracy_by_difficulty
from creditzoo.eval.metrics import summarize
from creditzoo.rollout.sampler import Sampler
from creditzoo.verify.protocol import Verifier


@dataclass
class EvalResult:
    metrics: dict[str, float]
    items: list[dict[str, Any]] = field(default_factory=list)


def evaluate(
    sampler: Sampler,
    render: PromptRenderer,
    verifier: Verifier,
    problems: list[Problem],
    *,
    k: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 64,
    seed: int = 1234,
) -> EvalResult:
    """avg@k / pass@k over ``problems``; the RNG is forked so training draws are untouched.

    Under several processes each rank samples every ``world``-th problem (padded so all ranks
    make the same generate calls, as FSDP needs) and every rank returns the gathered result.
    """
    rank, size = world()
    mine = list(range(rank, len(problems), size))
    padded = mine + [0] * (-(-len(problems) // size) - len(mine))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + rank)
        local = _sample_and_verify(
            sampler,
            render,
            verifier,
            [problems[i] for i in padded],
            k,
            temperature,
            max_new_tokens,
        )
    gathered = all_gather_objects(list(zip(mine, local[: len(mine)], strict=True)))
    items = [item for _, item in sorted(pair for part in gathered for pair in part)]
    return EvalResult(_summarize(items, k), items)


def _sample_and_verify(
    sampler: Sampler,
    render: PromptRenderer,
    verifier: Verifier,
    problems: list[Problem],
    k: int,
    temperature: float,
    max_new_tokens: int,
) -> list[dict[str, Any]]:
    prompts = [render(p) for p in problems for _ in range(k)]
    seqs = sampler.generate(prompts, max_new_tokens=max_new_tokens, temperature=temperature)
    verdicts = verifier(seqs.texts, [p.answer for p in problems for _ in range(k)])
    lengths = seqs.response_mask.sum(dim=1).tolist()
    items = []
    for i, problem in enumerate(problems):
        rows = range(i * k, (i + 1) * k)
        items.append(
            {
                "uid": problem.uid,
                "answer": problem.answer,
                "correct": [verdicts[r].correct for r in rows],
                "parsed": [verdicts[r].parsed for r in rows],
                "status": [verdicts[r].status for r in rows],
                "length": [int(lengths[r]) for r in rows],
            }
        )
    return items


def _summarize(items: list[dict[str, Any]], k: int) -> dict[str, float]:
    metrics = summarize([it["correct"] for it in items], k, [it["parsed"] for it in items])
    lengths = [n for it in items for n in it["length"]]
    statuses = [st for it in items for st in it["status"]]
    metrics["response_length"] = sum(lengths) / max(len(lengths), 1)
    metrics["no_answer_rate"] = statuses.count("no_answer") / max(len(statuses), 1)
    metrics["tokens_generated"] = float(sum(lengths))
    return metrics | accuracy_by_difficulty(items)
