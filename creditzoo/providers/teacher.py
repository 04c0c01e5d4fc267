"""The privileged teacher: its weights, and the passes that score the responses under contexts.

Weights (``TeacherSpec.weights``, overridable by ``teacher.weights``): live (the current policy),
fixed (the initial policy), snapshot (copied every ``sync_every`` optimizer steps), ema
(θ_T ← d·θ_T + (1−d)·θ). Contexts: ``creditzoo.providers.contexts``.

All teacher prompts of a step — the positive context of every row and each row's wrong-answer
contexts — go through one micro-batched no-grad pass over the same response tokens; a context
shared by a group's rows is prefilled once per micro-batch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from creditzoo.algorithms.base import TeacherSpec
from creditzoo.data.prompts import PromptRenderer
from creditzoo.distributed import full_state_dict, full_tensor, global_max, is_sharded
from creditzoo.errors import ConfigError
from creditzoo.models.lora import AdaptersDisabled
from creditzoo.models.util import frozen_copy, initial_policy
from creditzoo.providers.base import StepInputs
from creditzoo.providers.contexts import (
    CONTEXTS,
    DEFAULT_TEMPLATES,
    NEGATIVE_CONTEXTS,
    GroupOutcome,
)
from creditzoo.providers.teacher_check import TeacherCheck
from creditzoo.rollout.scoring import eval_mode, no_autograd, prompt_arguments, score_tokens
from creditzoo.rollout.sequences import Sequences
from creditzoo.types import RolloutBatch

WEIGHTS = ("live", "fixed", "snapshot", "ema")
POSITIVE_FIELDS = frozenset(
    {
        "teacher_logprobs",
        "teacher_entropies",
        "teacher_topk_ids",
        "teacher_topk_logprobs",
        "teacher_mask",
    }
)
NEGATIVE_FIELDS = frozenset({"neg_teacher_logprobs", "neg_mask"})

# Phrases by which a response refers to context only the teacher saw (the leakage RLSD warns of).
_MENTIONS = re.compile(r"reference|given answer|provided (?:answer|solution)|hint", re.IGNORECASE)


def mention_rate(texts: list[str]) -> float:
    """Fraction of responses that mention the privileged context."""
    return sum(bool(_MENTIONS.search(t)) for t in texts) / max(len(texts), 1)


class TeacherWeights:
    """Holds the teacher's parameters and keeps them in step with the policy as configured."""

    def __init__(
        self,
        policy: torch.nn.Module,
        mode: str = "snapshot",
        sync_every: int = 10,
        ema_decay: float = 0.99,
    ) -> None:
        if mode not in WEIGHTS:
            raise ConfigError(f"teacher.weights must be one of {', '.join(WEIGHTS)}, got {mode!r}")
        if mode == "snapshot" and sync_every < 1:
            raise ConfigError(f"teacher.sync_every must be >= 1, got {sync_every}")
        self.policy = policy
        self.mode = mode
        self.sync_every = sync_every
        self.ema_decay = ema_decay
        if mode == "live":
            self.model = policy
        elif mode == "fixed":  # under LoRA: the base weights, adapters off, no second copy
            self.model = initial_policy(policy)
        else:
            self.model = frozen_copy(policy)
        self._owns_weights = self.model is not policy and not isinstance(
            self.model, AdaptersDisabled
        )

    @torch.no_grad()
    def after_step(self, steps_done: int) -> None:
        """Call after each optimizer step with the number of completed steps."""
        # Under FSDP the policy is sharded and the teacher whole: gather (a collective).
        if self.mode == "snapshot" and steps_done % self.sync_every == 0:
            self.model.load_state_dict(full_state_dict(self.policy))
        elif self.mode == "ema":
            for t, p in zip(self.model.parameters(), self.policy.parameters(), strict=True):
                t.lerp_(full_tensor(p.detach()), 1.0 - self.ema_decay)

    def state_dict(self) -> dict[str, Tensor]:
        return self.model.state_dict() if self._owns_weights else {}

    def load_state_dict(self, state: Mapping[str, Tensor]) -> None:
        if self._owns_weights and state:
            self.model.load_state_dict(state)


class TeacherProvider:
    """The teacher fields of ``RolloutBatch``, as the algorithm's ``TeacherSpec`` describes."""

    name = "teacher"
    needs_verdicts = True  # contexts may read the siblings' outcomes

    def __init__(
        self,
        weights: TeacherWeights,
        spec: TeacherSpec,
        render: PromptRenderer,
        *,
        templates: Mapping[str, str] | None = None,
        temperature: float = 1.0,
        micro_batch_size: int = 64,
        check: str = "warn",
    ) -> None:
        self.positive = CONTEXTS.get(spec.context)
        self.negative = NEGATIVE_CONTEXTS.get(spec.negative_context) if spec.negatives else None
        self.weights = weights
        self.spec = spec
        self.render = render
        self.templates = {**DEFAULT_TEMPLATES, **(templates or {})}
        self.temperature = temperature
        self.micro_batch_size = micro_batch_size
        contexts = {"positive": spec.context}
        if spec.negatives:
            contexts["contrast"] = spec.negative_context
        self.check = TeacherCheck(contexts, check)
        topk = frozenset({"teacher_topk_ids", "teacher_topk_logprobs"})
        self.provides = POSITIVE_FIELDS - (frozenset() if spec.top_k else topk)
        if spec.negatives:
            self.provides = self.provides | NEGATIVE_FIELDS

    # -- Provider hooks
    def on_optimizer_step(self, steps_done: int) -> None:
        self.weights.after_step(steps_done)

    def metrics(self, inputs: StepInputs, batch: RolloutBatch) -> Mapping[str, float]:
        assert inputs.verdicts is not None
        correct = torch.tensor([v.correct for v in inputs.verdicts], dtype=torch.bool)
        return {"leak/mention_rate": mention_rate(inputs.seqs.texts), **self.check(batch, correct)}

    def record(self) -> dict[str, Any]:
        return {"teacher": self.describe(), "teacher_check": self.check.result}

    def state_dict(self) -> dict[str, Any]:
        return self.weights.state_dict()  # {} when the teacher is the policy or its base weights

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.weights.load_state_dict(state)

    def describe(self) -> dict[str, Any]:
        """What results.json records about the teacher."""
        return {"context": self.spec.context, "weights": self.weights.mode}

    # -- the passes
    @torch.no_grad()
    def score(self, inputs: StepInputs, fields: frozenset[str]) -> dict[str, Tensor]:
        seqs, g = inputs.seqs, inputs.group_size
        assert inputs.verdicts is not None
        n = seqs.num_rows
        groups = [
            GroupOutcome(
                p,
                seqs.texts[i * g : (i + 1) * g],
                inputs.verdicts[i * g : (i + 1) * g],
                seed=inputs.seed,
                step=inputs.step,
            )
            for i, p in enumerate(inputs.problems)
        ]
        # (prompt, response row, negative slot or -1) for every pass, all scored together.
        jobs: list[tuple[str, int, int]] = []
        want_positive = bool(fields & POSITIVE_FIELDS)
        has_context = torch.ones(n, dtype=torch.bool)
        if want_positive:
            for i in range(n):
                text = self.positive(groups[i // g], i % g, self.templates)
                if text is None:  # no valid context: score under the answer, report it
                    has_context[i] = False
                    text = CONTEXTS.get("answer")(groups[i // g], i % g, self.templates)
                jobs.append((self._wrap(text), i, -1))
        k = self.spec.negatives if fields & NEGATIVE_FIELDS else 0
        if k:
            assert self.negative is not None
            for i in range(n):
                texts = self.negative(groups[i // g], i % g, k, self.templates)
                jobs += [(self._wrap(t), i, slot) for slot, t in enumerate(texts[:k])]
        want_topk = bool(fields & {"teacher_topk_ids", "teacher_topk_logprobs"})
        results = self._run(
            seqs,
            jobs,
            with_entropy="teacher_entropies" in fields,
            top_k=self.spec.top_k if want_topk else 0,
        )
        out: dict[str, Tensor] = {}
        if want_positive:
            pos = [r for (_, _, slot), r in zip(jobs, results, strict=True) if slot < 0]
            out["teacher_logprobs"] = torch.stack([r.logprobs for r in pos])
            if "teacher_mask" in fields:
                out["teacher_mask"] = has_context
            if "teacher_entropies" in fields:
                out["teacher_entropies"] = torch.stack([r.entropy for r in pos])
            if want_topk:
                out["teacher_topk_ids"] = torch.stack([r.topk_ids for r in pos])
                out["teacher_topk_logprobs"] = torch.stack([r.topk_logprobs for r in pos])
        if k:
            neg = torch.zeros(n, k, seqs.response_ids.shape[1])
            mask = torch.zeros(n, k, dtype=torch.bool)
            for (_, row, slot), r in zip(jobs, results, strict=True):
                if slot >= 0:
                    neg[row, slot] = r.logprobs
                    mask[row, slot] = True
            out["neg_teacher_logprobs"], out["neg_mask"] = neg, mask
        return out

    def _wrap(self, text: str) -> str:
        return self.render.wrap(text)

    def _run(self, seqs: Sequences, jobs, *, with_entropy: bool, top_k: int) -> list[_Row]:
        """Score every job's response under its prompt; one CPU row per job."""
        model = self.weights.model
        results: list[_Row] = []
        starts = list(range(0, len(jobs), self.micro_batch_size))
        if is_sharded(model):
            # A live teacher under FSDP: every rank must run as many forwards as the busiest
            # (the number of wrong-answer contexts differs between ranks); extras are discarded.
            rounds = global_max(len(starts))
            starts += [0] * (rounds - len(starts))
        # Rows leave inference mode as views; ``score`` stacks them into ordinary tensors.
        with eval_mode(model), no_autograd(model):
            for i, start in enumerate(starts):
                chunk = jobs[start : start + self.micro_batch_size]
                rows = torch.tensor([row for _, row, _ in chunk])
                prompt_ids, prompt_mask = self.render.encode([p for p, _, _ in chunk])
                s = score_tokens(  # a context shared by a group's rows is prefilled once
                    model,
                    response_ids=seqs.response_ids[rows],
                    response_mask=seqs.response_mask[rows],
                    **prompt_arguments(model, prompt_ids, prompt_mask),
                    temperature=self.temperature,
                    with_entropy=with_entropy,
                    top_k=top_k,
                )
                if i * self.micro_batch_size < len(jobs):
                    results += [_Row(s, j) for j in range(len(chunk))]
        return results


class _Row:
    """One row of a TokenScores batch, moved to the CPU."""

    def __init__(self, scores: Any, j: int) -> None:
        self.logprobs = scores.logprobs[j].cpu()
        self.entropy = None if scores.entropy is None else scores.entropy[j].cpu()
        self.topk_ids = None if scores.topk_ids is None else scores.topk_ids[j].cpu()
        self.topk_logprobs = None if scores.topk_logprobs is None else scores.topk_logprobs[j].cpu()
