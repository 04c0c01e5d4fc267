"""The RLVR LightningModule: rollout → verify → score → credit → PPO-clip update.

The module never looks at which algorithm it runs: it reads ``algorithm.requires`` to decide
which scoring passes to run and feeds ``Credit.advantages`` to the shared loss.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import lightning as L
import torch

from creditzoo.algorithms._ops import informative_group_fraction
from creditzoo.algorithms.base import TEACHER_TOPK_IDS, TEACHER_TOPK_LOGPROBS, Algorithm
from creditzoo.data.datamodule import StepBatch
from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.distributed import is_sharded, shard_fsdp2
from creditzoo.losses import LossNormalizer, PolicyLossStats, policy_loss
from creditzoo.rollout.sampler import Sampler, sampler_metrics
from creditzoo.rollout.scorer import BatchScorer
from creditzoo.rollout.scoring import TokenScores, prompt_arguments, score_tokens
from creditzoo.rollout.sequences import Sequences
from creditzoo.rollout.teacher import TEACHER_FIELDS, Teacher
from creditzoo.types import RolloutBatch
from creditzoo.verify import MathVerifier, VerifyResult


@dataclass
class LoopSettings:
    seed: int = 0
    group_size: int = 8
    max_new_tokens: int = 64
    temperature: float = 1.0
    lr: float = 1e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.99)
    max_grad_norm: float = 1.0
    micro_batch_size: int = 64
    agg: str = "token_mean"
    clip_low: float = 0.2
    clip_high: float = 0.28
    kl_coef: float = 0.0
    eval_every: int = 0
    log_samples_every: int = 20
    # One grad-enabled forward serves both the behaviour log-probs and the loss when the batch
    # is one micro-batch (see RLVRModule._single_pass); False always runs the separate pass.
    single_pass: bool = True


class NonFiniteLossError(RuntimeError):
    pass


class RLVRModule(L.LightningModule):
    """Trains ``policy`` with verifiable rewards and the credit of ``algorithm``."""

    def __init__(
        self,
        policy: torch.nn.Module,
        tokenizer: Any,
        algorithm: Algorithm,
        verifier: MathVerifier,
        settings: LoopSettings,
        *,
        render: PromptRenderer,
        sampler: Sampler,
        scorer: BatchScorer,
        teacher: Teacher | None = None,
        validate: Callable[[RLVRModule], dict[str, float]] | None = None,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.policy = policy.train()
        self.tokenizer = tokenizer
        self.algorithm = algorithm
        self.verifier = verifier
        self.settings = settings
        self.render = render
        self.sampler = sampler
        self.scorer = scorer
        self.teacher = teacher
        self.validate = validate
        self.tokens_generated = 0
        self.train_seconds = 0.0
        # The loss's KL penalty needs the reference pass whatever the algorithm reads.
        needed = set(algorithm.requires) | ({"ref_logprobs"} if settings.kl_coef > 0 else set())
        self.teacher_fields = needed & TEACHER_FIELDS
        self.fields_needed = needed - TEACHER_FIELDS
        scorer.check_requires(self.fields_needed, algorithm.name)
        if self.teacher_fields and teacher is None:
            raise ValueError(
                f"algorithm {algorithm.name!r} requires {sorted(self.teacher_fields)} but the run "
                f"has no teacher"
            )
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify")
        # The training pass of the single-pass path, from _rollout to _update (one step only).
        self._train_scores: TokenScores | None = None

    # ----------------------------------------------------------------- Lightning plumbing
    def configure_model(self) -> None:
        # Set only by ModelParallelStrategy (trainer=fsdp): shard the policy with FSDP2. The
        # teacher's and reference model's frozen copies stay whole on every rank.
        mesh = self.device_mesh
        if mesh is not None and not is_sharded(self.policy):
            shard_fsdp2(self.policy, mesh)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        s = self.settings
        trainable = [p for p in self.policy.parameters() if p.requires_grad]  # LoRA: adapters
        return torch.optim.AdamW(trainable, lr=s.lr, betas=s.betas, weight_decay=s.weight_decay)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["creditzoo"] = {
            "tokens_generated": self.tokens_generated,
            "train_seconds": self.train_seconds,
            "teacher": self.teacher.weights.state_dict() if self.teacher else {},
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("creditzoo", {})
        self.tokens_generated = state.get("tokens_generated", 0)
        self.train_seconds = state.get("train_seconds", 0.0)
        if self.teacher is not None:
            self.teacher.weights.load_state_dict(state.get("teacher", {}))

    # ----------------------------------------------------------------- the step
    def training_step(self, batch: StepBatch, batch_idx: int) -> None:
        step, problems = batch
        timings: dict[str, float] = {}
        t_step = time.perf_counter()
        # Sampling is a function of (seed, step, rank) only, so a resumed run draws the same.
        torch.manual_seed(_step_seed(self.settings.seed, step, self.global_rank))
        seqs, verdicts, rollout = self._rollout(step, problems, timings)
        self.algorithm.check_batch(rollout)
        with _timed(timings, "credit"):
            credit = self.algorithm.compute(rollout)
        with _timed(timings, "update"):
            stats = self._update(seqs, rollout, credit.advantages)
        if self.teacher is not None:
            self.teacher.weights.after_step(step + 1)
        timings["step"] = time.perf_counter() - t_step
        self.train_seconds += timings["step"]
        self.tokens_generated += int(seqs.response_mask.sum())
        self._log_step(step, problems, seqs, verdicts, rollout, credit.metrics, stats, timings)
        if self._validation_due(step):
            # Straight to the logger: self.log would re-emit the values at every later step.
            self.logger.log_metrics(self.validate(self), step=step + 1)

    def _validation_due(self, step: int) -> bool:
        every = self.settings.eval_every
        last = step + 1 >= self.trainer.max_steps  # the final evaluation follows fit()
        return bool(
            self.validate and self.logger and every and (step + 1) % every == 0 and not last
        )

    def _rollout(
        self, step: int, problems: list[Problem], timings: dict[str, float]
    ) -> tuple[Sequences, list[VerifyResult], RolloutBatch]:
        """Sample G responses per problem, verify them, and run the scoring passes needed."""
        g = self.settings.group_size
        with _timed(timings, "generate"):
            prompts = [self.render(p) for p in problems for _ in range(g)]
            seqs = self.sampler.generate(
                prompts,
                max_new_tokens=self.settings.max_new_tokens,
                temperature=self.settings.temperature,
            )
        references = [p.answer for p in problems for _ in range(g)]
        # Verification runs in worker processes; overlap it with the behaviour pass.
        t_verify = time.perf_counter()
        pending = self._pool.submit(self.verifier, seqs.texts, references)
        with _timed(timings, "score"):
            behaviour = None
            if self._single_pass(seqs):
                self._train_scores = self._score_for_update(seqs, slice(0, seqs.num_rows), None)
                ent = self._train_scores.entropy if "entropies" in self.fields_needed else None
                behaviour = (
                    self._train_scores.logprobs.detach().cpu(),
                    None if ent is None else ent.cpu(),
                )
            fields = self.scorer.score(seqs, self.fields_needed, behaviour=behaviour)
        verdicts = pending.result()
        timings["verify_wait"] = time.perf_counter() - t_verify - timings["score"]
        if self.teacher_fields:  # contexts built from siblings' outcomes need the verdicts
            with _timed(timings, "teacher"):
                fields.update(self.teacher.score(seqs, problems, g, verdicts, self.teacher_fields))
        group_ids = torch.arange(len(problems)).repeat_interleave(g)
        rollout = RolloutBatch(
            rewards=torch.tensor([v.reward for v in verdicts], dtype=torch.float32),
            group_ids=group_ids + self.global_rank * len(problems),
            response_mask=seqs.response_mask,
            step=step,
            **fields,
        )
        return seqs, verdicts, rollout

    def _log_step(
        self, step, problems, seqs, verdicts, rollout, algo_metrics, stats, timings
    ) -> None:
        lengths = seqs.response_mask.sum(dim=1).float()
        rewards = rollout.rewards
        metrics = {
            "reward/mean": float(rewards.mean()),
            "reward/accuracy": sum(v.correct for v in verdicts) / len(verdicts),
            "reward/informative_groups": informative_group_fraction(rewards, rollout.group_ids),
            "response/length_mean": float(lengths.mean()),
            "response/length_max": float(lengths.max()),
            "tokens/generated_total": float(self.tokens_generated),
            "leak/mention_rate": mention_rate(seqs.texts),
            **stats,
            **{f"verify/{k}": float(v) for k, v in MathVerifier.count_statuses(verdicts).items()},
            **{f"time/{k}": v for k, v in timings.items()},
            **{f"algo/{k}": float(v) for k, v in algo_metrics.items()},
            **{f"rollout/{k}": v for k, v in sampler_metrics(self.sampler).items()},
        }
        # Several ranks: each value is the mean over ranks (one all-reduce per key).
        sync = self.trainer.world_size > 1
        self.log_dict(metrics, on_step=True, batch_size=len(verdicts), sync_dist=sync)
        self.log("acc", metrics["reward/accuracy"], prog_bar=True, logger=False)
        self.log("reward", metrics["reward/mean"], prog_bar=True, logger=False)
        if self.settings.log_samples_every and step % self.settings.log_samples_every == 0:
            self._log_samples(step, problems, seqs, verdicts)

    def _update(
        self, seqs: Sequences, rollout: RolloutBatch, advantages: torch.Tensor
    ) -> dict[str, float]:
        """One optimizer step over micro-batches; the loss is normalised over the global batch.

        Returns the step's loss, policy and entropy statistics, keyed as they are logged."""
        s = self.settings
        opt = self.optimizers()
        mask = rollout.response_mask
        normalizer = LossNormalizer(
            agg=s.agg,  # type: ignore[arg-type]
            total_tokens=self._global_sum(float(mask.sum())),
            total_rows=self._global_sum(float(mask.shape[0])),
            max_len=s.max_new_tokens,
        )
        distill = self.algorithm.objective == "distill"
        opt.zero_grad(set_to_none=True)
        totals = PolicyLossStats()
        sums = {"loss": 0.0, "entropy": 0.0, "gap": 0.0, "gap_max": 0.0, "distill": 0.0}
        starts = range(0, seqs.num_rows, s.micro_batch_size)
        for start in starts:
            sl = slice(start, start + s.micro_batch_size)
            part = seqs.rows(sl)
            scores, self._train_scores = self._train_scores, None
            if scores is None:
                gather = rollout.extras[TEACHER_TOPK_IDS][sl] if distill else None
                scores = self._score_for_update(seqs, sl, gather)
            logp = scores.logprobs
            device = logp.device
            m = part.response_mask.to(device)
            weights = normalizer.token_weights(m)
            old = rollout.logprobs[sl].to(device)
            ref = None if rollout.ref_logprobs is None else rollout.ref_logprobs[sl].to(device)
            loss, stats = policy_loss(
                logp,
                old,
                advantages[sl].to(device),
                m,
                weights,
                clip_low=s.clip_low,
                clip_high=s.clip_high,
                ref_logp=ref,
                kl_coef=s.kl_coef,
            )
            if distill:
                teacher_topk = rollout.extras[TEACHER_TOPK_LOGPROBS][sl].to(device)
                per_token = self.algorithm.distill_loss(scores.gathered, teacher_topk)
                distill_part = (per_token * weights).sum()
                loss = loss + distill_part
                sums["distill"] += float(distill_part.detach())
            if not torch.isfinite(loss):
                raise NonFiniteLossError(
                    f"non-finite loss ({float(loss)}) at step {self.global_step}; the run stops "
                    f"here and its last good checkpoint is kept under checkpoints/. Lower lr or "
                    f"check the algorithm's advantages."
                )
            # DDP averages gradients over ranks; the normaliser already divides by global counts.
            # Gradients are all-reduced once, with the last micro-batch's backward.
            with _no_sync_unless(start == starts[-1], self.trainer.strategy):
                self.manual_backward(loss * self.trainer.world_size)
            totals.add(stats)
            with torch.no_grad():
                # Rollout vs training log-probs of the same tokens: the engine's own when it
                # reports them (vLLM), else the behaviour pass (0 up to numerics with HF).
                rollout_logp = old if part.logprobs is None else part.logprobs.to(device)
                gap = (logp.detach() - rollout_logp).abs() * m
                sums["loss"] += float(loss.detach())
                sums["entropy"] += float((scores.entropy * m).sum())
                sums["gap"] += float(gap.sum())
                sums["gap_max"] = max(sums["gap_max"], float(gap.max()) if gap.numel() else 0.0)
        if s.max_grad_norm:
            self.clip_gradients(
                opt, gradient_clip_val=s.max_grad_norm, gradient_clip_algorithm="norm"
            )
        opt.step()
        self.sampler.sync_weights(self.policy)
        n_tok = max(totals.tokens, 1.0)
        stats = {f"loss/{k}": v for k, v in totals.means().items()}
        stats |= {
            "loss/total": sums["loss"],
            "response/entropy": sums["entropy"] / n_tok,
            "policy/logprob_gap_mean": sums["gap"] / n_tok,
            "policy/logprob_gap_max": sums["gap_max"],
        }
        if distill:
            stats["loss/distill"] = sums["distill"]
        return stats

    def _single_pass(self, seqs: Sequences) -> bool:
        """Whether the behaviour log-probs can come from the training forward itself.

        With one PPO epoch, the behaviour policy is the policy being updated, so its log-probs
        are the training pass's values, detached (the ratio is exactly 1, as in TRL with
        ``num_iterations=1``). Reusing that pass's graph for the loss is exact when the whole
        batch is one micro-batch (else every micro-batch's graph would be held at once), the
        objective needs nothing decided after scoring (``distill`` gathers the teacher's top-k
        ids), and train and eval mode give the same forward (no active dropout)."""
        return (
            self.settings.single_pass
            and seqs.num_rows <= self.settings.micro_batch_size
            and self.algorithm.objective != "distill"
            and not _has_dropout(self.policy)
        )

    def _score_for_update(self, seqs: Sequences, sl: slice, gather_ids) -> TokenScores:
        """The grad-enabled pass of rows ``sl`` that the loss differentiates.

        A group's rows share their prompt: it is run once and its KV cache (in the graph) shared."""
        part = seqs.rows(sl)
        return score_tokens(
            self.policy,
            response_ids=part.response_ids,
            response_mask=part.response_mask,
            **prompt_arguments(self.policy, part.prompt_ids, part.prompt_mask),
            temperature=self.settings.temperature,
            with_entropy=True,
            gather_ids=gather_ids,
        )

    def _global_sum(self, value: float) -> float:
        if self.trainer.world_size == 1:
            return value
        reduced = self.trainer.strategy.reduce(
            torch.tensor(value, device=self.device), reduce_op="sum"
        )
        return float(reduced)

    def _log_samples(self, step: int, problems, seqs: Sequences, verdicts) -> None:
        experiment = getattr(self.logger, "experiment", None)
        if experiment is None or not hasattr(experiment, "add_text"):
            return
        rows = []
        for i in (0, self.settings.group_size - 1):
            p = problems[i // self.settings.group_size]
            rows.append(
                f"**{p.problem}** (reference {p.answer}) → reward {verdicts[i].reward:g}, "
                f"parsed {verdicts[i].parsed!r}\n\n    {seqs.texts[i][:2000]}"
            )
        experiment.add_text("samples", "\n\n".join(rows), global_step=step)

    def teardown(self, stage: str) -> None:
        self._pool.shutdown(wait=False)


# Phrases by which a response refers to context only the teacher saw (the leakage RLSD warns of).
_MENTIONS = re.compile(r"reference|given answer|provided (?:answer|solution)|hint", re.IGNORECASE)


def mention_rate(texts: list[str]) -> float:
    """Fraction of responses that mention the privileged context."""
    return sum(bool(_MENTIONS.search(t)) for t in texts) / max(len(texts), 1)


def _has_dropout(model: torch.nn.Module) -> bool:
    """Whether train mode changes the forward: a dropout module or a dropout rate in the config."""
    if any(isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0 for m in model.modules()):
        return True
    config = getattr(model, "config", None)
    rates = vars(config) if config is not None else {}
    return any(
        isinstance(v, float) and v > 0 and ("dropout" in k or "pdrop" in k)
        for k, v in rates.items()
    )


def _step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step * 10_007 + rank) % (2**63 - 1)


def _no_sync_unless(sync: bool, strategy: Any) -> Any:
    """DDP's ``no_sync`` for gradient accumulation; a no-op for one process and for FSDP."""
    if sync or not hasattr(strategy, "block_backward_sync"):
        return contextlib.nullcontext()
    return strategy.block_backward_sync()


class _timed:
    def __init__(self, sink: dict[str, float], key: str) -> None:
        self.sink, self.key = sink, key

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.sink[self.key] = time.perf_counter() - self.t0


__all__ = ["LoopSettings", "NonFiniteLossError", "RLVRModule"]
