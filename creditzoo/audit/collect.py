"""One frozen batch, every algorithm's credit on it, and the effective credit of each.

Sampled once, verified once, each field computed once (per teacher setting), then every
algorithm reads the *identical* batch, so differences between algorithms are paired. At audit
time every teacher is the audited policy itself (``teacher.weights=live``): a snapshot, EMA or
fixed teacher equals the policy at the weights being audited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from creditzoo.algorithms import Algorithm, build_algorithm
from creditzoo.algorithms.base import TeacherSpec
from creditzoo.compose import with_model_facts
from creditzoo.config_schema import FitConfig
from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.process.steps import StepCheck
from creditzoo.providers import build_providers
from creditzoo.providers.base import StepInputs
from creditzoo.providers.policy import score_passes
from creditzoo.providers.process import check_rows
from creditzoo.providers.teacher import (
    NEGATIVE_FIELDS,
    POSITIVE_FIELDS,
    TeacherProvider,
    TeacherWeights,
)
from creditzoo.rollout.sequences import Sequences, pad_right
from creditzoo.types import RolloutBatch
from creditzoo.verify.result import VerifyResult

TOPK_FIELDS = frozenset({"teacher_topk_ids", "teacher_topk_logprobs"})
# Rows per generate call: bounds the KV cache of a large audit.
SAMPLE_CHUNK = 512


@dataclass
class FrozenBatch:
    """The audited batch: responses, verdicts, step checks and the fields computed so far."""

    problems: list[Problem]
    group_size: int
    seqs: Sequences
    verdicts: list[VerifyResult]
    checks: list[StepCheck]
    offsets: list[list[tuple[int, int]] | None]
    fields: dict[str, Tensor] = field(default_factory=dict)

    @property
    def group_ids(self) -> Tensor:
        return torch.arange(len(self.problems)).repeat_interleave(self.group_size)

    @property
    def rewards(self) -> Tensor:
        return torch.tensor([v.reward for v in self.verdicts], dtype=torch.float32)

    def inputs(self, seed: int, problems: Sequence[Problem] | None = None) -> StepInputs:
        return StepInputs(
            self.seqs, list(problems or self.problems), self.group_size, self.verdicts, seed=seed
        )


def sample_batch(
    sampler,
    render: PromptRenderer,
    verifier,
    problems: list[Problem],
    settings: FitConfig,
    checker,
    tokenizer,
) -> FrozenBatch:
    """G responses per problem (seeded per chunk), verified and step-checked."""
    g = settings.group_size
    prompts = [render(p) for p in problems for _ in range(g)]
    parts = []
    for i, start in enumerate(range(0, len(prompts), SAMPLE_CHUNK)):
        torch.manual_seed(settings.seed * 1_000_003 + i)
        parts.append(
            sampler.generate(
                prompts[start : start + SAMPLE_CHUNK],
                max_new_tokens=settings.max_new_tokens,
                temperature=settings.temperature,
            )
        )
    seqs = concat_sequences(parts, pad_id=render.tokenizer.pad_token_id)
    verdicts = list(verifier(seqs.texts, [p.answer for p in problems for _ in range(g)]))
    rows = check_rows(seqs, problems, g, checker, tokenizer)
    batch = FrozenBatch(problems, g, seqs, verdicts, rows.checks, rows.offsets)
    batch.fields["process_labels"] = rows.labels
    return batch


def concat_sequences(parts: Sequence[Sequences], pad_id: int) -> Sequences:
    """Rows of several ``Sequences`` in order (prompts left-padded, responses right-padded)."""
    prompts = [p.prompt_ids[i][p.prompt_mask[i]] for p in parts for i in range(p.num_rows)]
    responses = [p.response_ids[i][p.response_mask[i]] for p in parts for i in range(p.num_rows)]
    prompt_ids, prompt_mask = pad_right([r.flip(0) for r in prompts], pad_id)
    response_ids, response_mask = pad_right(responses, pad_id)
    return Sequences(
        prompt_ids.flip(1),
        prompt_mask.flip(1),
        response_ids,
        response_mask,
        [t for p in parts for t in p.texts],
    )


def build(name: str, policy: torch.nn.Module) -> Algorithm:
    return with_model_facts(build_algorithm(name), policy)


def compute_fields(
    batch: FrozenBatch,
    algorithms: Sequence[Algorithm],
    policy: torch.nn.Module,
    render: PromptRenderer,
    settings: FitConfig,
    teacher: Mapping[str, Any],
    templates: Mapping[str, str],
    checker,
    reference: torch.nn.Module | None = None,
) -> list[dict[str, Tensor]]:
    """Each algorithm's fields, every teacher pass run once for all algorithms that share it.

    ``reference`` is the frozen model of ``ref_logprobs`` (a run's initial policy; None: the
    audited policy itself, as at the start of a run).

    Passes are shared by what they score, not by algorithm: one positive pass per teacher
    context (with the largest top-k any algorithm asks of it; a smaller top-k is its prefix, as
    ``topk`` sorts), one negative pass per (wrong-answer context, K), one behaviour pass."""
    teacher = {**teacher, "weights": "live", "check": "off"}
    scoring = {
        "temperature": settings.temperature,
        "micro_batch_size": settings.loss.micro_batch_size,
    }
    plans = []
    for algorithm in algorithms:
        providers = build_providers(
            algorithm,
            policy,
            render,
            **scoring,
            teacher=teacher,
            templates=templates,
            step_checker=checker,
        )
        spec = next((p.spec for p in providers if isinstance(p, TeacherProvider)), None)
        plans.append((set(algorithm.requires) | {"logprobs", "entropies"}, spec))
    inputs = batch.inputs(settings.seed)
    logprobs, entropies = score_passes(
        policy,
        batch.seqs,
        temperature=settings.temperature,
        micro_batch_size=settings.loss.micro_batch_size,
        with_entropy=True,
    )
    shared = {
        "logprobs": logprobs,
        "entropies": entropies,
        "process_labels": batch.fields["process_labels"],
    }
    if any("ref_logprobs" in needed for needed, _ in plans):
        shared["ref_logprobs"] = logprobs
        if reference is not None:
            shared["ref_logprobs"], _ = score_passes(
                reference,
                batch.seqs,
                temperature=settings.temperature,
                micro_batch_size=settings.loss.micro_batch_size,
                with_entropy=False,
            )
    positive: dict[str, tuple[set[str], int]] = {}
    negative: set[tuple[str, int]] = set()
    for needed, spec in plans:
        if spec is None:
            continue
        if needed & POSITIVE_FIELDS:
            fields, top_k = positive.get(spec.context, (set(), 0))
            top_k = max(top_k, spec.top_k if needed & TOPK_FIELDS else 0)
            positive[spec.context] = (fields | (needed & POSITIVE_FIELDS), top_k)
        if needed & NEGATIVE_FIELDS:
            negative.add((spec.negative_context, spec.negatives))
    passes: dict[Any, dict[str, Tensor]] = {}
    for context, (fields, top_k) in positive.items():
        spec = TeacherSpec(context=context, weights="live", top_k=top_k)
        passes[context] = _teacher(policy, spec, render, settings, templates).score(
            inputs, frozenset(fields)
        )
    for neg_context, k in negative:
        spec = TeacherSpec(weights="live", negative_context=neg_context, negatives=k)
        passes[(neg_context, k)] = _teacher(policy, spec, render, settings, templates).score(
            inputs, NEGATIVE_FIELDS
        )
    out = []
    for needed, spec in plans:
        fields = {f: shared[f] for f in needed if f in shared}
        if spec is not None and needed & POSITIVE_FIELDS:
            got = passes[spec.context]
            fields |= {f: got[f] for f in needed & POSITIVE_FIELDS}
            for f in needed & TOPK_FIELDS:  # its own top-k: a prefix of the shared pass's
                fields[f] = fields[f][..., : spec.top_k]
        if spec is not None and needed & NEGATIVE_FIELDS:
            got = passes[(spec.negative_context, spec.negatives)]
            fields |= {f: got[f] for f in needed & NEGATIVE_FIELDS}
        out.append(fields)
    return out


def _teacher(policy, spec: TeacherSpec, render, settings: FitConfig, templates) -> TeacherProvider:
    return TeacherProvider(
        TeacherWeights(policy, mode="live"),
        spec,
        render,
        templates=templates,
        temperature=settings.temperature,
        micro_batch_size=settings.loss.micro_batch_size,
        check="off",
    )


def rollout_batch(batch: FrozenBatch, fields: Mapping[str, Tensor]) -> RolloutBatch:
    return RolloutBatch(
        rewards=batch.rewards,
        group_ids=batch.group_ids,
        response_mask=batch.seqs.response_mask,
        step=0,
        **fields,
    )


def unrelated_teacher_delta(
    batch: FrozenBatch, policy, render, settings: FitConfig, templates, logprobs: Tensor
) -> Tensor:
    """Δ of a teacher shown the answer of *another* problem (the next one in the batch): the
    same prompt form with no information about this problem, so its Δ is the noise floor of a
    teacher signal. (With no context at all the teacher is the student here: Δ ≡ 0.)"""
    n = len(batch.problems)
    rotated = [
        dataclasses.replace(p, answer=batch.problems[(i + 1) % n].answer)
        for i, p in enumerate(batch.problems)
    ]
    provider = _teacher(
        policy, TeacherSpec(context="answer", weights="live"), render, settings, templates
    )
    out = provider.score(batch.inputs(settings.seed, rotated), frozenset({"teacher_logprobs"}))
    return (out["teacher_logprobs"] - logprobs) * batch.seqs.response_mask
