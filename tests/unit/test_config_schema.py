"""The schema accepts every shipped config and names the key, the rule and a fix otherwise."""

from __future__ import annotations

import pytest

from creditzoo.config_check import checked_config
from creditzoo.config_schema import FitConfig, LossSettings, parse, parse_fit
from creditzoo.errors import ConfigError, UnknownNameError


@pytest.mark.parametrize(
    ("command", "overrides"),
    [
        ("fit", []),
        ("fit", ["+experiment=leaderboard", "algorithm=opsd", "teacher.context=answer"]),
        ("fit", ["algorithm=rlcsd", "model.lora.r=4", "rollout=hf", "trainer=ddp"]),
        ("eval", []),
        ("eval", ["benchmark=champ", "limit=3", "output_dir=somewhere"]),
    ],
)
def test_shipped_configs_pass(command: str, overrides: list[str]) -> None:
    # A key added to a YAML file without its schema field fails here, not in a user's hands.
    checked_config(command, overrides)


def test_the_loop_reads_the_checked_schema() -> None:
    cfg = checked_config("fit", ["lr=0.001", "optim.betas=[0.8,0.9]", "loss.agg=seq_mean"])
    settings = parse_fit(cfg)  # what RLVRModule reads: the schema itself, no hand copy
    assert isinstance(settings, FitConfig) and isinstance(settings.loss, LossSettings)
    assert settings.lr == 0.001 and tuple(settings.optim.betas) == (0.8, 0.9)
    assert settings.loss.agg == "seq_mean" and settings.loss.mini_batches == 1
    assert settings.eval_every == 100 and settings.loss.single_pass is True


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"seed": 1.5}, "seed expects an integer, got 1.5 (e.g. seed=0, the default)"),
        ({"max_steps": -1}, "max_steps must be ≥ 0, got -1 (e.g. max_steps=300, the default)"),
        ({"output_dir": 3}, "output_dir expects a string or null, got 3"),
        ({"loss": {"single_pass": "yes"}}, "loss.single_pass expects true or false, got 'yes'"),
        ({"model": {"lora": {"dropout": 1.0}}}, "model.lora.dropout must be ≥ 0 and < 1"),
        (
            {"eval": {"splits": "id"}},
            "eval.splits expects a list (each a string) or null, got 'id'",
        ),
        ({"teacher": {"weight": "ema"}}, "unknown setting 'teacher.weight'. Did you mean"),
        ({"loss": 3}, "loss must be a section (loss.<key>=…), got 3"),
    ],
)
def test_bad_values_name_key_and_rule(values: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(FitConfig, values)
    assert str(err.value).startswith(message)


def test_unknown_teacher_context_lists_the_registered_ones() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown teacher context 'hint'.*answer"):
        checked_config("fit", ["algorithm=rlsd", "teacher.context=hint"])
