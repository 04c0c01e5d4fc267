"""The privileged teacher: which context it sees, which weights it uses, and its scoring passes.

Contexts (DESIGN §4), rendered from versioned templates in the data config:
  answer           the reference answer only (RLSD's default)
  solution         the reference solution (OPSD's default)
  wrong_answer     a rejected sibling's answer (CEPO) or response (RLCSD), positive's template
  correct_sibling  a correct sibling's response, never the row's own (RLCSD's positive)
Weights: live (the current policy), fixed (the initial policy), snapshot (copied every
``sync_every`` steps), ema (θ_T ← d·θ_T + (1−d)·θ).

All teacher prompts of a step — the positive context of every row and each row's wrong-answer
contexts — go through one micro-batched no-grad pass over the same response tokens; a context
shared by a group's rows is prefilled once per micro-batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from creditzoo.algorithms.base import TEACHER_TOPK_IDS, TEACHER_TOPK_LOGPROBS
from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.distributed import full_state_dict, full_tensor, global_max, is_sharded
from creditzoo.models.lora import AdaptersDisabled
from creditzoo.models.util import frozen_copy, initial_policy
from creditzoo.rollout.scoring import eval_mode, no_autograd, prompt_arguments, score_tokens
from creditzoo.rollout.sequences import Sequences
from creditzoo.verify import VerifyResult

CONTEXTS = ("answer", "solution", "wrong_answer", "correct_sibling")
WEIGHTS = ("live", "fixed", "snapshot", "ema")
TEACHER_FIELDS = frozenset(
    {"teacher_logprobs", "teacher_entropies", "teacher_topk", "neg_teacher_logprobs", "neg_mask"}
)
DEFAULT_TEMPLATES = {
    "answer": "{problem} (Reference answer: {answer})",
    "solution": "{problem} (Reference solution: {solution})",
    "correct_sibling": "{problem} (Reference solution: {response})",
}


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
            raise ValueError(f"teacher.weights must be one of {WEIGHTS}, got {mode!r}")
        if mode == "snapshot" and sync_every < 1:
            raise ValueError(f"teacher.sync_every must be >= 1, got {sync_every}")
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


@dataclass
class _Group:
    problem: Problem
    rows: range
    texts: list[str]
    verdicts: list[VerifyResult]


class ContextBuilder:
    """Renders teacher prompts for a row from its problem and its group's outcomes."""

    def __init__(self, render: PromptRenderer, templates: Mapping[str, str] | None = None) -> None:
        self.render = render
        self.templates = {**DEFAULT_TEMPLATES, **(templates or {})}

    def positive(self, context: str, group: _Group, row: int) -> str:
        p = group.problem
        if context == "answer":
            return self.render(p, self.templates["answer"])
        if context == "solution":
            return self.render(p, self.templates["solution"])
        if context == "correct_sibling":
            sibling = self._correct_sibling(group, row)
            if sibling is None:  # no other correct response: fall back to the reference answer
                return self.render(p, self.templates["answer"])
            return self.render.wrap(
                self.templates["correct_sibling"].format(
                    problem=p.problem, answer=p.answer, solution=p.solution, response=sibling
                )
            )
        raise ValueError(f"unknown teacher context {context!r}; known: {', '.join(CONTEXTS)}")

    def negatives(self, group: _Group, row: int, k: int, context: str = "answer") -> list[str]:
        """Up to ``k`` wrong-answer prompts from the row's rejected siblings, worst first.

        Worst = lowest reward, then the most frequent wrong answer; each answer is used once, and
        the row's own response is never its own negative. The template mirrors the positive one
        so that only the evidence differs: with ``correct_sibling`` the wrong sibling's whole
        response is shown, otherwise its answer in the ``answer`` template.
        """
        wrong: Counter[str] = Counter()
        reward: dict[str, float] = {}
        example: dict[str, str] = {}
        for j, text, v in zip(group.rows, group.texts, group.verdicts, strict=True):
            if j == row or v.correct or not v.parsed or v.parsed == group.problem.answer:
                continue
            wrong[v.parsed] += 1
            reward[v.parsed] = min(reward.get(v.parsed, v.reward), v.reward)
            example.setdefault(v.parsed, text)
        order = sorted(wrong, key=lambda a: (reward[a], -wrong[a]))[:k]
        p = group.problem
        if context == "correct_sibling":
            template = self.templates["correct_sibling"]
            fills = [{"answer": a, "response": example[a]} for a in order]
        else:
            template = self.templates["answer"]
            fills = [{"answer": a, "response": ""} for a in order]
        return [
            self.render.wrap(template.format(problem=p.problem, solution=p.solution, **f))
            for f in fills
        ]

    @staticmethod
    def _correct_sibling(group: _Group, row: int) -> str | None:
        n = len(group.rows)
        offset = row - group.rows.start
        for step in range(1, n):  # the next correct sibling, cyclically: spreads the choice
            j = (offset + step) % n
            if group.verdicts[j].correct:
                return group.texts[j]
        return None


class Teacher:
    """Runs the teacher passes an algorithm asks for."""

    def __init__(
        self,
        weights: TeacherWeights,
        contexts: ContextBuilder,
        *,
        context: str,
        num_negatives: int = 1,
        top_k: int = 0,
        temperature: float = 1.0,
        micro_batch_size: int = 64,
    ) -> None:
        if context not in CONTEXTS or context == "wrong_answer":
            raise ValueError(
                f"teacher.context must be one of answer, solution, correct_sibling; got {context!r}"
            )
        self.weights = weights
        self.contexts = contexts
        self.context = context
        self.num_negatives = num_negatives
        self.top_k = top_k
        self.temperature = temperature
        self.micro_batch_size = micro_batch_size

    @torch.no_grad()
    def score(
        self,
        seqs: Sequences,
        problems: Sequence[Problem],
        group_size: int,
        verdicts: Sequence[VerifyResult],
        requires: set[str],
    ) -> dict[str, Any]:
        n = seqs.num_rows
        groups = [
            _Group(
                p,
                range(g * group_size, (g + 1) * group_size),
                seqs.texts[g * group_size : (g + 1) * group_size],
                list(verdicts[g * group_size : (g + 1) * group_size]),
            )
            for g, p in enumerate(problems)
        ]
        # (prompt, response row, negative slot or -1) for every pass, all scored together.
        jobs: list[tuple[str, int, int]] = []
        want_positive = requires & {"teacher_logprobs", "teacher_entropies", "teacher_topk"}
        if want_positive:
            jobs += [
                (self.contexts.positive(self.context, groups[i // group_size], i), i, -1)
                for i in range(n)
            ]
        k = self.num_negatives if "neg_teacher_logprobs" in requires else 0
        if k:
            for i in range(n):
                for slot, prompt in enumerate(
                    self.contexts.negatives(groups[i // group_size], i, k, self.context)
                ):
                    jobs.append((prompt, i, slot))
        results = self._run(
            seqs,
            jobs,
            with_entropy="teacher_entropies" in requires,
            top_k=self.top_k if "teacher_topk" in requires else 0,
        )
        out: dict[str, Any] = {}
        width = seqs.response_ids.shape[1]
        if want_positive:
            pos = [r for (_, _, slot), r in zip(jobs, results, strict=True) if slot < 0]
            out["teacher_logprobs"] = torch.stack([r.logprobs for r in pos])
            if "teacher_entropies" in requires:
                out["teacher_entropies"] = torch.stack([r.entropy for r in pos])
            if "teacher_topk" in requires:
                out["extras"] = {
                    TEACHER_TOPK_IDS: torch.stack([r.topk_ids for r in pos]),
                    TEACHER_TOPK_LOGPROBS: torch.stack([r.topk_logprobs for r in pos]),
                }
        if k:
            neg = torch.zeros(n, k, width)
            mask = torch.zeros(n, k, dtype=torch.bool)
            for (_, row, slot), r in zip(jobs, results, strict=True):
                if slot >= 0:
                    neg[row, slot] = r.logprobs
                    mask[row, slot] = True
            out["neg_teacher_logprobs"], out["neg_mask"] = neg, mask
        return out

    def _run(self, seqs: Sequences, jobs, *, with_entropy: bool, top_k: int) -> list[Any]:
        """Score every job's response under its prompt; returns per-row TokenScores slices."""
        model = self.weights.model
        results: list[Any] = []
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
                prompt_ids, prompt_mask = self.contexts.render.encode([p for p, _, _ in chunk])
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
