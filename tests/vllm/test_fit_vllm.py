"""`creditzoo fit rollout=vllm` end to end: rollouts from vLLM, weights pushed after every
optimizer step, evaluation through the same engine."""

import json
import math
from pathlib import Path

import pytest

from creditzoo.fit import run_fit
from creditzoo.testing import fit_config, read_scalars

pytestmark = pytest.mark.vllm

# lr 10x the default so one step moves the log-probs far beyond numerical noise: an engine that
# missed a push, or reported unscaled log-probs at temperature 0.7, fails the gap bound.
SMALL = [
    "rollout=vllm",
    "max_steps=4",
    "prompts_per_step=4",
    "group_size=4",
    "temperature=0.7",
    "lr=1e-3",
    "max_new_tokens=48",
    "eval.n=8",
    "eval.k=2",
    "eval.splits=[id]",
    "eval_every=0",
    "checkpoint_every=10",
]


def test_fit_with_vllm_rollouts(tmp_path: Path) -> None:
    results = run_fit(fit_config(SMALL), tmp_path)
    assert results["steps"] == 4 and results["final"]["id"]["n"] == 8
    assert json.loads((tmp_path / "results.json").read_text())["final"] == results["final"]
    s = read_scalars(tmp_path)
    assert len(s["rollout/sync_seconds"]) == 4 and all(v > 0 for v in s["rollout/sync_seconds"])
    assert all(math.isfinite(v) for v in s["loss/total"])
    # Engine vs trainer log-probs of the sampled tokens, every step (each after a push).
    assert len(s["policy/logprob_gap_mean"]) == 4
    assert max(s["policy/logprob_gap_mean"]) < 1e-4, s["policy/logprob_gap_mean"]
    assert max(s["policy/logprob_gap_max"]) < 5e-3, s["policy/logprob_gap_max"]
    # Not vacuous: the policy moved (non-zero credit) before a later step sampled from vLLM.
    assert max(s["algo/adv_abs_mean"][:-1]) > 0.05, s["algo/adv_abs_mean"]


def test_gap_bound_catches_a_missed_push(tmp_path: Path, monkeypatch) -> None:
    """Negative control for the bound above: with the push disabled the engine samples from the
    stale weights and the logged gap is far above it once the policy has moved (seed 0: step 0
    has no informative group, step 1 updates)."""
    from creditzoo.rollout.vllm import VLLMSampler

    monkeypatch.setattr(VLLMSampler, "sync_weights", lambda self, policy: None)
    run_fit(fit_config([*SMALL, "max_steps=3", "eval.n=2", "eval.k=1"]), tmp_path)
    gaps = read_scalars(tmp_path)["policy/logprob_gap_mean"]
    assert gaps[0] < 1e-4 and max(gaps) > 1e-3, gaps


def test_unknown_rollout_option_is_a_clear_error(tmp_path: Path) -> None:
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="kv_cache"):
        fit_config([*SMALL, "rollout.kv_cache=2"])
    with pytest.raises(ValueError, match=r"rollout\.kv_cache; known: .*cpu_kv_cache_gib"):
        run_fit(fit_config([*SMALL, "+rollout.kv_cache=2"]), tmp_path)
