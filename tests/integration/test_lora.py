"""LoRA through peft: only adapters train; the fixed teacher and the KL reference are the base
weights (adapters off) rather than a second copy; checkpoints evaluate with adapters merged."""

from __future__ import annotations

from pathlib import Path

import torch

from creditzoo.eval.run import load_policy
from creditzoo.fit import run_fit
from creditzoo.models.factory import build_model
from creditzoo.models.lora import AdaptersDisabled, apply_lora
from creditzoo.testing import compose_config, fit_config

SMALL = [
    "max_steps=2",
    "prompts_per_step=2",
    "group_size=4",
    "eval.n=4",
    "eval.k=1",
    "eval.splits=[id]",
    "max_new_tokens=48",
    "log_samples_every=0",
    "model.lora.r=4",
    "lr=1e-2",  # large enough that two steps visibly move the adapters
]


def test_adapters_disabled_is_the_base_model() -> None:
    base, tok = build_model("tiny")
    reference = {k: v.clone() for k, v in base.state_dict().items()}
    policy = apply_lora(base, r=4)
    for name, p in policy.named_parameters():
        if "lora_B" in name:  # B = 0 at init: make the adapters matter
            torch.nn.init.normal_(p, std=0.5)
    ids = tok(["1+2="], return_tensors="pt").input_ids
    with torch.no_grad():
        adapted = policy(input_ids=ids).logits
        seen_by_teacher = AdaptersDisabled(policy)(input_ids=ids).logits
        fresh, _ = build_model("tiny")
        fresh.load_state_dict(reference)
        expected = fresh(input_ids=ids).logits
    torch.testing.assert_close(seen_by_teacher, expected)
    assert not torch.allclose(adapted, expected)


def test_lora_fit_trains_only_adapters_with_a_base_weight_teacher(tmp_path: Path) -> None:
    # opsd: fixed teacher (the base model) + KL to the reference (also the base model).
    results = run_fit(fit_config([*SMALL, "algorithm=opsd", "loss.kl_coef=0.1"]), tmp_path)
    assert results["steps"] == 2 and results["teacher"]["weights"] == "fixed"
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    state = ckpt["state_dict"]
    teacher_state = ckpt["creditzoo"]["providers"]["teacher"]
    assert teacher_state == {}, "the base-weight teacher stores no copy"
    start, _ = build_model("tiny")
    start_state = start.state_dict()
    lora_moved = frozen_same = 0
    for key, value in state.items():
        if "lora_" in key:
            lora_moved += "lora_B" in key and float(value.abs().max()) > 0
        elif key.startswith("policy.base_model.model."):
            name = key.removeprefix("policy.base_model.model.").replace(".base_layer", "")
            torch.testing.assert_close(value, start_state[name], msg=name)
            frozen_same += 1
    assert lora_moved > 0 and frozen_same == len(start_state)


def test_a_lora_checkpoint_evaluates_with_merged_adapters(tmp_path: Path) -> None:
    run_fit(fit_config(SMALL), tmp_path)
    cfg = compose_config("eval", [f"ckpt={tmp_path}"])
    model, _, source = load_policy(cfg)
    assert type(model).__name__ == "LlamaForCausalLM"  # plain transformers, adapters merged
    assert source["model"]["lora"]["r"] == 4
