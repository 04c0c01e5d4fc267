"""PPO mini-batches (``loss.mini_batches``): M = 1 is bitwise the update from before the option
existed; M > 1 takes M optimizer steps per rollout batch, whole groups each, every one against
the behaviour log-probs scored before the first, so the clip acts from the second on."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from creditzoo import module
from creditzoo.config_schema import FitConfig, LossSettings
from creditzoo.errors import ConfigError
from creditzoo.fit import run_fit
from creditzoo.losses import PolicyLossStats, gather_ids, micro_batch_loss
from creditzoo.module import RLVRModule, _check_finite, _no_sync_unless, _StepSums
from creditzoo.rollout.scoring import TokenScores
from creditzoo.rollout.sequences import Sequences
from creditzoo.testing import fit_config
from creditzoo.types import Credit, RolloutBatch

SMALL = [
    "max_steps=2",
    "prompts_per_step=4",
    "group_size=4",
    "eval.n=1",
    "eval.k=1",
    "eval.splits=[id]",
    "eval_every=0",
    "checkpoint_every=2",
    "max_new_tokens=32",
    "log_samples_every=0",
    "lr=1e-3",
    "verifier.timeout_s=60",  # a timeout under load would change rewards between the fits
]


# The loop's one-step update as it was before mini-batches (commit cb60d91), verbatim but for
# reading the settings from the config schema, the rollout step as first argument, and the
# providers' per-step hook, which the loop then ran right after the update.
def _update_before_mini_batches(
    self,
    step: int,
    seqs: Sequences,
    rollout: RolloutBatch,
    credit: Credit,
    train_scores: TokenScores | None = None,
) -> dict[str, float]:
    """One optimizer step over micro-batches; the loss is normalised over the global batch.

    ``train_scores``: the first micro-batch's training forward when ``_rollout`` already ran
    it (single-pass). Returns the step's loss, policy and entropy statistics, as logged."""
    s = self.settings
    opt = self.optimizers()
    normalizer = self._normalizer(rollout.response_mask)
    opt.zero_grad(set_to_none=True)
    totals, sums = PolicyLossStats(), _StepSums()
    starts = range(0, seqs.num_rows, s.loss.micro_batch_size)
    for start in starts:
        rows = slice(start, start + s.loss.micro_batch_size)
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
    self.sampler.sync_weights(self.policy)
    for provider, _ in self.plan:
        provider.on_optimizer_step(step + 1)
    return {f"loss/{k}": v for k, v in totals.means().items()} | sums.logged(totals.tokens)


def _state(tmp: Path, overrides: list[str]) -> dict:
    run_fit(fit_config(SMALL + overrides), tmp)
    ckpt = torch.load(tmp / "checkpoints" / "last.ckpt", weights_only=False)
    return ckpt


@pytest.mark.parametrize("overrides", [[], ["loss.micro_batch_size=5"]])
def test_one_mini_batch_is_bitwise_the_previous_update(tmp_path, monkeypatch, overrides) -> None:
    new = _state(tmp_path / "new", ["loss.mini_batches=1", *overrides])
    monkeypatch.setattr(RLVRModule, "_update", _update_before_mini_batches)
    old = _state(tmp_path / "old", overrides)
    assert new["global_step"] == old["global_step"] == 2
    for key, value in old["state_dict"].items():
        assert torch.equal(new["state_dict"][key], value), key


def test_several_mini_batches_step_each_and_clip_from_the_second(tmp_path, monkeypatch) -> None:
    calls: list[dict] = []
    rollouts: list[torch.Tensor] = []
    original_update, original_loss = RLVRModule._update, module.micro_batch_loss

    def update(self, step, seqs, rollout, credit, train_scores=None):
        rollouts.append(rollout.logprobs.clone())
        return original_update(self, step, seqs, rollout, credit, train_scores)

    def loss(logp, gathered, old_logp, advantages, mask, weights, *args, **kwargs):
        out = original_loss(logp, gathered, old_logp, advantages, mask, weights, *args, **kwargs)
        calls.append(
            {
                "rows": kwargs["rows"],
                "old": old_logp.detach().clone(),
                "logp": logp.detach().clone(),
                "weight_sum": float(weights.sum()),
                "clipped": out[1].clipped,
            }
        )
        return out

    monkeypatch.setattr(RLVRModule, "_update", update)
    monkeypatch.setattr(module, "micro_batch_loss", loss)
    # A large lr, so that the first step moves the policy past the clip range.
    # 8 prompts, so that the first step's mini-batches both hold mixed groups (a gradient).
    overrides = ["prompts_per_step=8", "loss.mini_batches=2", "lr=0.05", "loss.single_pass=true"]
    ckpt = _state(tmp_path, overrides)
    assert ckpt["global_step"] == 2  # one trainer step per rollout batch, whatever M
    assert len(calls) == 4  # 2 rollout steps × 2 mini-batches, each one micro-batch
    for step in range(2):
        first, second = calls[2 * step], calls[2 * step + 1]
        # Whole groups, contiguous: 8 groups of 4 rows → rows 0–15, then 16–31.
        assert (first["rows"], second["rows"]) == (slice(0, 16), slice(16, 32))
        # Each mini-batch is normalised over its own tokens (token_mean: Σ w = 1).
        assert first["weight_sum"] == pytest.approx(1.0)
        assert second["weight_sum"] == pytest.approx(1.0)
        # Both use the behaviour log-probs scored before the first step.
        assert torch.equal(first["old"], rollouts[step][0:16])
        assert torch.equal(second["old"], rollouts[step][16:32])
        # The first mini-batch is on-policy (ratio 1): the clip cannot act there.
        torch.testing.assert_close(first["logp"], first["old"], atol=1e-4, rtol=0)
        assert first["clipped"] == 0
    # After a step (a first mini-batch with signal) the second one's ratio moved: the clip acted.
    clipped = [i for i in (1, 3) if calls[i]["clipped"] > 0]
    assert clipped
    assert all(not torch.allclose(calls[i]["logp"], calls[i]["old"], atol=1e-3) for i in clipped)


def test_mini_batches_split_whole_groups() -> None:
    def chunks(rows: int, group_size: int, m: int) -> list[slice]:
        settings = FitConfig(group_size=group_size, loss=LossSettings(mini_batches=m))
        fake = SimpleNamespace(settings=settings)
        return RLVRModule._mini_batches(fake, rows)

    assert chunks(16, 4, 1) == [slice(0, 16)]
    # 5 groups in 3 chunks: 2, 2, 1 groups.
    assert chunks(20, 4, 3) == [slice(0, 8), slice(8, 16), slice(16, 20)]
    with pytest.raises(ConfigError, match="mini_batches"):
        chunks(8, 4, 3)


def test_teacher_hooks_count_optimizer_steps(tmp_path, monkeypatch) -> None:
    # A snapshot every k steps or an EMA teacher follows optimizer steps, as in the references:
    # 2 rollout steps × M=2 → hooks see 1, 2, 3, 4 (one call per optimizer step).
    from creditzoo.providers.teacher import TeacherWeights

    seen: list[int] = []
    original = TeacherWeights.after_step

    def after_step(self, steps_done: int) -> None:
        seen.append(steps_done)
        original(self, steps_done)

    monkeypatch.setattr(TeacherWeights, "after_step", after_step)
    _state(tmp_path, ["algorithm=rlsd", "loss.mini_batches=2"])
    assert seen == [1, 2, 3, 4]
