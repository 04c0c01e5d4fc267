"""The RLVR LightningModule: rollout → verify → providers → credit → loss → update.

The module never looks at which algorithm it runs: it runs the field providers that the
algorithm's ``requires`` (and the loss) need, calls the algorithm on the ``RolloutBatch``, and
hands the ``Credit`` (advantages and any further loss components) to the shared loss.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import lightning as L
import torch

from creditzoo.algorithms.base import Algorithm
from creditzoo.algorithms.ops import informative_group_fraction
from creditzoo.config_schema import FitConfig
from creditzoo.data.datamodule import StepBatch
from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.distributed import is_sharded, shard_fsdp2
from creditzoo.errors import ConfigError
from creditzoo.losses import (
    LossNormalizer,
    PolicyLossStats,
    gather_ids,
    micro_batch_loss,
)
from creditzoo.providers.base import Provider, StepInputs
from creditzoo.providers.build import required_fields
from creditzoo.rollout.sampler import Sampler, sampler_metrics
from creditzoo.rollout.scoring import TokenScores, prompt_arguments, score_tokens
from creditzoo.rollout.sequences import Sequences
from creditzoo.types import Credit, RolloutBatch
from creditzoo.verify.protocol import Verifier, count_statuses


class NonFiniteLossError(RuntimeError):
    pass


class RLVRModule(L.LightningModule):
    """Trains ``policy`` with verifiable rewards and the credit of ``algorithm``."""

    def __init__(
        self,
        policy: torch.nn.Module,
        tokenizer: Any,
        algorithm: Algorithm,
        verifier: Verifier,
        settings: FitConfig,
        *,
        render: PromptRenderer,
        sampler: Sampler,
        providers: Sequence[Provider],
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
        self.validate = validate
        self.tokens_generated = 0
        self.train_seconds = 0.0
        needed = required_fields(algorithm, settings.loss.kl_coef) | {"logprobs"}
        # Each provider with the fields it fills this run (a field comes from its first provider).
        self.plan: list[tuple[Provider, frozenset[str]]] = []
        for provider in providers:
            fields = (provider.provides & needed) - {f for _, fs in self.plan for f in fs}
            if fields:
                self.plan.append((provider, frozenset(fields)))
        self._wants_entropies = any("entropies" in fields for _, fields in self.plan)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify")

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
        betas, decay = tuple(s.optim.betas), s.optim.weight_decay
        return torch.optim.AdamW(trainable, lr=s.lr, betas=betas, weight_decay=decay)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["creditzoo"] = {
            "tokens_generated": self.tokens_generated,
            "train_seconds": self.train_seconds,
            "providers": {provider.name: provider.state_dict() for provider, _ in self.plan},
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("creditzoo", {})
        self.tokens_generated = state.get("tokens_generated", 0)
        self.train_seconds = state.get("train_seconds", 0.0)
        saved = state.get("providers", {})
        for provider, _ in self.plan:
            provider.load_state_dict(saved.get(provider.name, {}))

    # ----------------------------------------------------------------- the step
    def training_step(self, batch: StepBatch, batch_idx: int) -> None:
        step, problems = batch
        timings: dict[str, float] = {}
        t_step = time.perf_counter()
        # Sampling is a function of (seed, step, rank) only, so a resumed run draws the same.
        torch.manual_seed(_step_seed(self.settings.seed, step, self.global_rank))
        inputs, rollout, train_scores = self._rollout(step, problems, timings)
        with _timed(timings, "credit"):
            credit = self.algorithm(rollout)
        with _timed(timings, "update"):
            stats = self._update(step, inputs.seqs, rollout, credit, train_scores)
        timings["step"] = time.perf_counter() - t_step
        self.train_seconds += timings["step"]
        self.tokens_generated += int(inputs.seqs.response_mask.sum())
        self._log_step(step, inputs, rollout, credit, stats, timings)
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
    ) -> tuple[StepInputs, RolloutBatch, TokenScores | None]:
        """Sample G responses per problem, verify them, and run the providers needed.

        Returns the step's inputs (with verdicts), the scored batch, and the training forward
        when it already ran here (the single-pass path), for ``_update`` to reuse."""
        g = self.settings.group_size
        with _timed(timings, "generate"):
            prompts = [self.render(p) for p in problems for _ in range(g)]
            seqs = self.sampler.generate(
                prompts,
                max_new_tokens=self.settings.max_new_tokens,
                temperature=self.settings.temperature,
            )
        references = [p.answer for p in problems for _ in range(g)]
        # Verification runs in worker processes; overlap it with the providers that need none.
        t_verify = time.perf_counter()
        pending = self._pool.submit(self.verifier, seqs.texts, references)
        at = {"step": step, "seed": self.settings.seed}
        inputs = StepInputs(seqs, problems, g, **at)
        fields: dict[str, torch.Tensor] = {}
        train_scores = None
        with _timed(timings, "score"):
            if self._single_pass(seqs):
                train_scores = self._score_for_update(seqs, slice(0, seqs.num_rows), None)
                ent = train_scores.entropy if self._wants_entropies else None
                behaviour = (
                    train_scores.logprobs.detach().cpu(),
                    None if ent is None else ent.cpu(),
                )
                inputs = StepInputs(seqs, problems, g, behaviour=behaviour, **at)
            fields |= self._run_providers(inputs, needs_verdicts=False)
        verdicts = pending.result()
        timings["verify_wait"] = time.perf_counter() - t_verify - timings["score"]
        inputs = StepInputs(seqs, problems, g, verdicts=verdicts, **at)
        with _timed(timings, "teacher"):
            fields |= self._run_providers(inputs, needs_verdicts=True)
        group_ids = torch.arange(len(problems)).repeat_interleave(g)
        rollout = RolloutBatch(
            rewards=torch.tensor([v.reward for v in verdicts], dtype=torch.float32),
            group_ids=group_ids + self.global_rank * len(problems),
            response_mask=seqs.response_mask,
            step=step,
            **fields,
        )
        return inputs, rollout, train_scores

    def _run_providers(self, inputs: StepInputs, *, needs_verdicts: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for provider, fields in self.plan:
            if provider.needs_verdicts == needs_verdicts:
                out |= provider.score(inputs, fields)
        return out

    def _log_step(self, step, inputs: StepInputs, rollout, credit: Credit, stats, timings) -> None:
        seqs, verdicts = inputs.seqs, inputs.verdicts
        assert verdicts is not None
        lengths = seqs.response_mask.sum(dim=1).float()
        rewards = rollout.rewards
        metrics = {
            "reward/mean": float(rewards.mean()),
            "reward/accuracy": sum(v.correct for v in verdicts) / len(verdicts),
            "reward/informative_groups": informative_group_fraction(rewards, rollout.group_ids),
            "response/length_mean": float(lengths.mean()),
            "response/length_max": float(lengths.max()),
            "tokens/generated_total": float(self.tokens_generated),
            **stats,
            **{f"verify/{k}": float(v) for k, v in count_statuses(verdicts).items()},
            **{f"time/{k}": v for k, v in timings.items()},
            **{f"algo/{k}": float(v) for k, v in credit.metrics.items()},
            **{f"rollout/{k}": v for k, v in sampler_metrics(self.sampler).items()},
        }
        # Several ranks: each value is the mean over ranks (one all-reduce per key).
        sync = self.trainer.world_size > 1
        self.log_dict(metrics, on_step=True, batch_size=len(verdicts), sync_dist=sync)
        # A provider may report a key on one rank only (the teacher check, once it has a batch
        # with both outcomes): an all-reduce per key would then pair different keys across
        # ranks, so these are rank 0's values, unsynced.
        own = {k: float(v) for p, _ in self.plan for k, v in p.metrics(inputs, rollout).items()}
        self.log_dict(own, on_step=True, batch_size=len(verdicts), sync_dist=False)
        self.log("acc", metrics["reward/accuracy"], prog_bar=True, logger=False)
        self.log("reward", metrics["reward/mean"], prog_bar=True, logger=False)
        if self.settings.log_samples_every and step % self.settings.log_samples_every == 0:
            self._log_samples(step, inputs.problems, seqs, verdicts)

    def _update(
        self,
        step: int,
        seqs: Sequences,
        rollout: RolloutBatch,
        credit: Credit,
        train_scores: TokenScores | None = None,
    ) -> dict[str, float]:
        """``loss.mini_batches`` = M optimizer steps, each over a contiguous chunk of whole groups.

        Every mini-batch is normalised over its own global tokens/rows and uses the behaviour
        log-probs of the rollout, scored before the first step: from the second mini-batch on
        the ratio differs from 1 and the PPO clip can act. With M = 1 this is one step over the
        whole batch. ``train_scores``: the training forward when ``_rollout`` already ran it
        (single-pass, M = 1 only). After each optimizer step the providers' hooks see the
        number of optimizer steps done (``step·M + i + 1``), so a teacher snapshot every k
        steps or an EMA teacher counts optimizer steps, as the references do. Returns the
        step's loss, policy and entropy statistics."""
        totals, sums = PolicyLossStats(), _StepSums()
        chunks = self._mini_batches(seqs.num_rows)
        for i, chunk in enumerate(chunks):
            # Lightning counts one step per rollout batch: global_step is the rollout step that
            # data resumption, checkpoints and max_steps read.
            with _counted(self.optimizers(), i == len(chunks) - 1) as opt:
                self._step(opt, seqs, rollout, credit, chunk, train_scores, totals, sums)
            train_scores = None
            for provider, _ in self.plan:
                provider.on_optimizer_step(step * len(chunks) + i + 1)
        self.sampler.sync_weights(self.policy)
        return {f"loss/{k}": v for k, v in totals.means().items()} | sums.logged(
            totals.tokens, len(chunks)
        )

    def _step(self, opt, seqs, rollout, credit, chunk: slice, train_scores, totals, sums) -> None:
        """One optimizer step over rows ``chunk``, micro-batched."""
        s = self.settings
        normalizer = self._normalizer(rollout.response_mask[chunk])
        opt.zero_grad(set_to_none=True)
        starts = range(chunk.start, chunk.stop, s.loss.micro_batch_size)
        for start in starts:
            rows = slice(start, min(start + s.loss.micro_batch_size, chunk.stop))
            part = seqs.rows(rows)
            scores, train_scores = train_scores, None
            if scores is None:
                scores = self._score_for_update(seqs, rows, gather_ids(credit.components, rows))
            device = scores.logprobs.device
            m = part.response_mask.to(device)
            old = rollout.logprobs[rows].to(device)
            ref = None if rollout.ref_logprobs is None else rollout.ref_logprobs[rows].to(device)
            loss, stats, parts = micro_batch_loss(
                scores.logprobs,
                scores.gathered,
                old,
                credit.advantages[rows].to(device),
                m,
                normalizer.token_weights(m),
                s.loss,
                components=credit.components,
                rows=rows,
                ref_logp=ref,
            )
            _check_finite(loss, self.global_step)
            # DDP averages gradients over ranks; the normaliser already divides by global counts.
            # Gradients are all-reduced once, with the last micro-batch's backward.
            with _no_sync_unless(start == starts[-1], self.trainer.strategy):
                self.manual_backward(loss * self.trainer.world_size)
            totals.add(stats)
            # Rollout vs training log-probs of the same tokens: the engine's own when it reports
            # them (vLLM), else the behaviour pass (0 up to numerics with HF).
            engine = old if part.logprobs is None else part.logprobs.to(device)
            sums.add(loss, scores, engine, m, parts)
        if s.optim.max_grad_norm:
            self.clip_gradients(
                opt, gradient_clip_val=s.optim.max_grad_norm, gradient_clip_algorithm="norm"
            )
        opt.step()

    def _mini_batches(self, num_rows: int) -> list[slice]:
        """Row slices of M contiguous chunks of whole groups (sizes differ by at most a group)."""
        g, m = self.settings.group_size, self.settings.loss.mini_batches
        groups = num_rows // g
        if not 1 <= m <= groups:
            raise ConfigError(
                f"loss.mini_batches={m} needs 1 ≤ mini_batches ≤ the groups per process "
                f"({groups}); lower loss.mini_batches or raise prompts_per_step."
            )
        sizes = [groups // m + (i < groups % m) for i in range(m)]
        bounds = [0, *itertools.accumulate(sizes)]
        return [slice(a * g, b * g) for a, b in itertools.pairwise(bounds)]

    def _normalizer(self, mask: torch.Tensor) -> LossNormalizer:
        """Denominators over the global batch: every micro-batch and every rank."""
        return LossNormalizer(
            agg=self.settings.loss.agg,
            total_tokens=self._global_sum(float(mask.sum())),
            total_rows=self._global_sum(float(mask.shape[0])),
            max_len=self.settings.max_new_tokens,
        )

    def _single_pass(self, seqs: Sequences) -> bool:
        """Whether the behaviour log-probs can come from the training forward itself.

        With one PPO epoch, the behaviour policy is the policy being updated, so its log-probs
        are the training pass's values, detached (the ratio is exactly 1, as in TRL with
        ``num_iterations=1``). Reusing that pass's graph for the loss is exact when the whole
        batch is one micro-batch (else every micro-batch's graph would be held at once), the
        loss reads the student only at the sampled tokens (a component such as a distillation
        target names its token ids after credit), and train and eval mode give the same forward
        (no active dropout)."""
        return (
            self.settings.loss.single_pass
            and self.settings.loss.mini_batches == 1  # later mini-batches need the pre-step values
            and seqs.num_rows <= self.settings.loss.micro_batch_size
            and not self.algorithm.components
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


class _StepSums:
    """Per-step sums of what ``_update`` logs besides the policy statistics."""

    def __init__(self) -> None:
        self.loss = self.entropy = self.gap = self.gap_max = 0.0
        self.components: dict[str, float] = {}

    @torch.no_grad()
    def add(self, loss, scores: TokenScores, engine_logp, mask, parts: dict[str, float]) -> None:
        gap = (scores.logprobs.detach() - engine_logp).abs() * mask
        self.loss += float(loss.detach())
        self.entropy += float((scores.entropy * mask).sum())
        self.gap += float(gap.sum())
        self.gap_max = max(self.gap_max, float(gap.max()) if gap.numel() else 0.0)
        for name, value in parts.items():
            self.components[name] = self.components.get(name, 0.0) + value

    def logged(self, tokens: float, mini_batches: int = 1) -> dict[str, float]:
        """Token means, and the loss terms averaged over the step's mini-batches."""
        n = max(tokens, 1.0)
        return {
            "loss/total": self.loss / mini_batches,
            "response/entropy": self.entropy / n,
            "policy/logprob_gap_mean": self.gap / n,
            "policy/logprob_gap_max": self.gap_max,
            **{f"loss/{name}": v / mini_batches for name, v in self.components.items()},
        }


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


def _check_finite(loss: torch.Tensor, step: int) -> None:
    if not torch.isfinite(loss):
        raise NonFiniteLossError(
            f"non-finite loss ({float(loss)}) at step {step}; the run stops here and its last "
            f"good checkpoint is kept under checkpoints/. Lower lr or check the algorithm's "
            f"advantages."
        )


def _step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step * 10_007 + rank) % (2**63 - 1)


@contextlib.contextmanager
def _counted(opt: Any, count: bool) -> Iterator[Any]:
    """The optimizer; unless ``count``, its steps are not counted by Lightning's progress (which
    global_step reads), so several optimizer steps per rollout batch make one trainer step."""
    if count:
        yield opt
        return
    hooks = opt._on_before_step, opt._on_after_step
    opt._on_before_step = opt._on_after_step = _nothing
    try:
        yield opt
    finally:
        opt._on_before_step, opt._on_after_step = hooks


def _nothing() -> None:
    pass


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


__all__ = ["NonFiniteLossError", "RLVRModule"]
