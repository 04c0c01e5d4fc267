"""One frozen batch, every algorithm's credit on it, and the effective credit of each.

Sampled once, verified once, each field computed once (per teacher setting), then every
algorithm reads the *identical* batch, so differences between algorithms are paired. At audit
time every teacher is the audited policy itself (``teacher.weights=live``): a snapshot, EMA or
fixed teacher equals the policy at the weights being audited.
"""

from __future__ import annotations

import copy
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
from creditzoo.losses import LossNormalizer, gather_ids, micro_batch_loss
from creditzoo.process.steps import StepCheck
from creditzoo.providers import build_providers
from creditzoo.providers.base import Provider, StepInputs
from creditzoo.providers.policy import score_passes
from creditzoo.providers.process import check_rows
from creditzoo.providers.teacher import TeacherProvider, TeacherWeights
from creditzoo.rollout.scoring import prompt_arguments, score_tokens
from creditzoo.rollout.sequences import Sequences, pad_right
from creditzoo.types import Credit, RolloutBatch
from creditzoo.verify.result import VerifyResult

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


def provider_key(provider: Provider) -> tuple[str, str]:
    """Providers with equal keys compute equal fields (a teacher: per TeacherSpec)."""
    spec = getattr(provider, "spec", None)
    return provider.name, repr(spec)


def compute_fields(
    batch: FrozenBatch,
    algorithms: Sequence[Algorithm],
    policy: torch.nn.Module,
    render: PromptRenderer,
    settings: FitConfig,
    teacher: Mapping[str, Any],
    templates: Mapping[str, str],
    checker,
) -> list[dict[str, Tensor]]:
    """Each algorithm's fields; each distinct provider runs once, for the union of the fields
    the algorithms that share it need."""
    teacher = {**teacher, "weights": "live", "check": "off"}
    scoring = {
        "temperature": settings.temperature,
        "micro_batch_size": settings.loss.micro_batch_size,
    }
    plans: list[list[tuple[Provider, frozenset[str]]]] = []
    wanted: dict[tuple[str, str], tuple[Provider, set[str]]] = {}
    for algorithm in algorithms:
        needed = set(algorithm.requires) | {"logprobs", "entropies"}
        providers = build_providers(
            algorithm,
            policy,
            render,
            **scoring,
            teacher=teacher,
            templates=templates,
            step_checker=checker,
        )
        plan = []
        for provider in providers:
            fields = frozenset(provider.provides & needed)
            needed -= fields
            if fields:
                key = provider_key(provider)
                wanted.setdefault(key, (provider, set()))[1].update(fields)
                plan.append((provider, fields))
        plans.append(plan)
    computed: dict[tuple[str, str], dict[str, Tensor]] = {}
    inputs = batch.inputs(settings.seed)
    for key, (provider, fields) in wanted.items():
        if key[0] == "process":
            computed[key] = {"process_labels": batch.fields["process_labels"]}
        else:
            computed[key] = provider.score(inputs, frozenset(fields))
    return [
        {f: computed[provider_key(p)][f] for p, fields in plan for f in fields} for plan in plans
    ]


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
    provider = TeacherProvider(
        TeacherWeights(policy, mode="live"),
        TeacherSpec(context="answer"),
        render,
        templates=templates,
        temperature=settings.temperature,
        micro_batch_size=settings.loss.micro_batch_size,
        check="off",
    )
    out = provider.score(batch.inputs(settings.seed, rotated), frozenset({"teacher_logprobs"}))
    return (out["teacher_logprobs"] - logprobs) * batch.seqs.response_mask


# ----------------------------------------------------------------------------- effective credit
def loss_weights(mask: Tensor, settings: FitConfig) -> Tensor:
    """The loss's per-token weights over the whole batch, scaled to mean 1 on the mask."""
    w = LossNormalizer(
        agg=settings.loss.agg,
        total_tokens=float(mask.sum()),
        total_rows=float(mask.shape[0]),
        max_len=settings.max_new_tokens,
    ).token_weights(mask)
    return w / w[mask].mean()


def prefix_aggregated(
    advantages: Tensor, response_ids: Tensor, mask: Tensor, group_ids: Tensor, weights: Tensor
) -> Tensor:
    """Σ_j w[j, t]·Â[j, t] over the rows j of the group whose tokens y_≤t equal row i's.

    Rows that share a prefix push the same log-prob (same context, same token), so their
    coefficients add: under GRPO the blame of a wrong response on a prefix it shares with a
    correct sibling cancels (arXiv 2509.21154)."""
    n, t_max = response_ids.shape
    node = torch.zeros(n, t_max, dtype=torch.long)  # a trie node id per (row, position)
    ids: dict[tuple[int, int, int], int] = {}
    rows = response_ids.tolist()
    lengths = mask.sum(dim=1).tolist()
    groups = group_ids.tolist()
    for i in range(n):
        parent = -1 - groups[i]  # each group's root
        for t in range(lengths[i]):
            parent = ids.setdefault((groups[i], parent, rows[i][t]), len(ids))
            node[i, t] = parent
    flat = (weights * advantages * mask).flatten()
    totals = torch.zeros(max(len(ids), 1)).index_add_(
        0, node.flatten()[mask.flatten()], flat[mask.flatten()]
    )
    return torch.where(mask, totals[node], 0.0)


def realised_change(
    policy: torch.nn.Module,
    batch: FrozenBatch,
    rollout: RolloutBatch,
    credit: Credit,
    settings: FitConfig,
) -> Tensor:
    """δ[i, t] = log π'(y_t) − log π(y_t) after one optimizer step (AdamW as configured, fresh
    state) on the whole batch with this credit and loss components, from the audited weights.

    Adam's first step moves every parameter by about lr·sign(gradient), so δ shows where the
    update goes more faithfully than how far; the gradient clip is scale-only and skipped."""
    model = copy.deepcopy(policy).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        params,
        lr=settings.lr,
        betas=tuple(settings.optim.betas),
        weight_decay=settings.optim.weight_decay,
    )
    seqs, mask = batch.seqs, batch.seqs.response_mask
    normalizer = LossNormalizer(
        agg=settings.loss.agg,
        total_tokens=float(mask.sum()),
        total_rows=float(mask.shape[0]),
        max_len=settings.max_new_tokens,
    )
    opt.zero_grad(set_to_none=True)
    step = settings.loss.micro_batch_size
    for start in range(0, seqs.num_rows, step):
        rows = slice(start, min(start + step, seqs.num_rows))
        part = seqs.rows(rows)
        scores = score_tokens(
            model,
            response_ids=part.response_ids,
            response_mask=part.response_mask,
            **prompt_arguments(model, part.prompt_ids, part.prompt_mask),
            temperature=settings.temperature,
            gather_ids=gather_ids(credit.components, rows),
        )
        m = part.response_mask
        loss, _, _ = micro_batch_loss(
            scores.logprobs,
            scores.gathered,
            rollout.logprobs[rows],
            credit.advantages[rows],
            m,
            normalizer.token_weights(m),
            settings.loss,
            components=credit.components,
            rows=rows,
        )
        loss.backward()
    opt.step()
    after, _ = score_passes(
        model, seqs, temperature=settings.temperature, micro_batch_size=step, with_entropy=False
    )
    return (after - rollout.logprobs) * mask
