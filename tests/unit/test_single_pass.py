"""The single-pass path (the training forward also gives the behaviour log-probs) trains exactly
as the two-pass path and as the micro-batched path."""

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

from creditzoo import module
from creditzoo.fit import run_fit
from creditzoo.hydra_app import register_configs
from creditzoo.models.factory import build_model

SMALL = [
    "max_steps=2",
    "prompts_per_step=4",
    "group_size=4",
    "eval.n=1",
    "eval.k=1",
    "eval.splits=[id]",
    "eval_every=0",
    "checkpoint_every=2",
    "max_new_tokens=48",
    "log_samples_every=0",
    "lr=1e-3",
    "verifier.timeout_s=60",  # a timeout under load would change rewards between the fits
]


_ORIGINAL = module.RLVRModule._single_pass


def _fit(tmp: Path, overrides: list[str], monkeypatch) -> tuple[dict, list[bool]]:
    used: list[bool] = []

    def spy(self, seqs):
        used.append(_ORIGINAL(self, seqs))
        return used[-1]

    monkeypatch.setattr(module.RLVRModule, "_single_pass", spy)
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_module("creditzoo.configs", version_base="1.3"):
        cfg = compose("fit", overrides=SMALL + overrides)
    run_fit(cfg, tmp)
    state = torch.load(tmp / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    return state, used


@pytest.mark.parametrize("algorithm", ["grpo", "rlsd"])
def test_single_pass_equals_two_passes(tmp_path: Path, monkeypatch, algorithm: str) -> None:
    one, used_one = _fit(tmp_path / "one", [f"algorithm={algorithm}"], monkeypatch)
    two, used_two = _fit(
        tmp_path / "two", [f"algorithm={algorithm}", "loss.single_pass=false"], monkeypatch
    )
    micro, used_micro = _fit(
        tmp_path / "micro", [f"algorithm={algorithm}", "loss.micro_batch_size=5"], monkeypatch
    )
    assert used_one == [True, True] and used_two == used_micro == [False, False]
    for key in one:
        torch.testing.assert_close(one[key], two[key], atol=1e-6, rtol=0)
        torch.testing.assert_close(one[key], micro[key], atol=1e-5, rtol=1e-5)
    initial, _ = build_model("tiny")
    start = {f"policy.{k}": v for k, v in initial.state_dict().items()}
    assert any(not torch.equal(one[k], start[k]) for k in one if k in start)  # it trained


def test_dropout_disables_the_single_pass() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.1))
    assert module._has_dropout(model)
    assert not module._has_dropout(torch.nn.Sequential(torch.nn.Linear(2, 2)))
