"""Every option of every config group composes, and what it composes to builds."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

import creditzoo
from creditzoo.algorithms import list_algorithms
from creditzoo.compose import algorithm_from_config
from creditzoo.config_schema import parse_fit
from creditzoo.errors import ConfigError
from creditzoo.hydra_app import register_configs
from creditzoo.tasks import TASKS, list_tasks

CONFIG_DIR = Path(creditzoo.__file__).parent / "configs"
GROUPS = ("model", "data", "rollout", "trainer")


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


@pytest.fixture(autouse=True)
def hydra_ctx():
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_module("creditzoo.configs", version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def test_default_config_builds() -> None:
    cfg = compose("fit")
    assert cfg.algorithm.name == "grpo" and cfg.model.name == "tiny" and cfg.data.name == "arith"
    settings = parse_fit(cfg)
    assert settings.loss.agg == "token_mean" and settings.loss.clip_high == 0.28
    assert algorithm_from_config(cfg).name == "grpo"


@pytest.mark.parametrize("name", list_algorithms())
def test_every_algorithm_composes_without_yaml(name: str) -> None:
    cfg = compose("fit", overrides=[f"algorithm={name}"])
    assert algorithm_from_config(cfg).name == name


@pytest.mark.parametrize(("group", "option"), [(g, o) for g in GROUPS for o in _options(g)])
def test_every_group_option_composes(group: str, option: str) -> None:
    cfg = compose("fit", overrides=[f"{group}={option}"])
    assert cfg[group] is not None


def test_algorithm_parameter_override() -> None:
    cfg = compose("fit", overrides=["algorithm.scale_rewards=none", "loss.agg=const_norm"])
    assert algorithm_from_config(cfg).scale_rewards == "none"
    assert parse_fit(cfg).loss.agg == "const_norm"


def test_unknown_algorithm_parameter_is_named() -> None:
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="scale_reward"):
        compose("fit", overrides=["algorithm.scale_reward=none"])
    cfg = compose("fit", overrides=["+algorithm.scale_reward=none"])
    with pytest.raises(ConfigError, match="no parameter 'scale_reward'"):
        algorithm_from_config(cfg)


@pytest.mark.parametrize("name", list_tasks())
def test_every_task_is_a_data_and_a_benchmark_option_without_yaml(name: str) -> None:
    task = TASKS.get(name)
    data = compose("fit", overrides=[f"data={name}"]).data
    assert data.name == name and data.prompt_template == task.prompt_template
    assert dict(data.privileged_templates) == dict(task.privileged_templates)
    assert compose("fit", overrides=[f"data={name}"]).max_new_tokens == task.max_new_tokens
    bench = compose("eval", overrides=[f"benchmark={name}", f"benchmark.path={name}.jsonl"])
    assert bench.benchmark.name == name and bench.benchmark.path == f"{name}.jsonl"
