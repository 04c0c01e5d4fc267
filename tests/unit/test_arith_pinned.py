"""The arith task is frozen: its training batches, prompts, teacher contexts and test splits are
byte-identical to the code that produced the committed leaderboard (hashes taken before the Task
refactor). A change here changes every committed result; bump the task's version instead."""

import hashlib
import json

import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from creditzoo.data.datamodule import StepPrompts
from creditzoo.hydra_app import register_configs
from creditzoo.tasks.fit_data import fit_data

PINNED = {
    "train_seed0": "7a8c13d3cc2ab35d073ac6aaf2554c04669ca1f1a3479f6cb84175b1e5dc7534",
    "train_seed1": "49863025955744b238881789d4718d5e26ffe88e9695d0faae1196394f0e3d89",
    "rank_slices": "00891614c3f89b29a313d31b2192b4e58806f9ec756a5c0d49a06418fb045d39",
    "prompts": "7b2ab595b3cdf797dabe02cb2fce8fde102041fbda5fec85e0ca6486df9ce527",
    "contexts": "4945689f8ed13fa90dc8d6ac36c5409183691c4623f6987d32af80ea96148068",
    "splits": "9dacd3e276528038b6634bba2ae96d5b3e723b7406f9e1bcd8fde8c172f92277",
}


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


@pytest.fixture(scope="module")
def cfg():
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_module("creditzoo.configs", version_base="1.3"):
        yield compose("fit")
    GlobalHydra.instance().clear()


def _data(cfg, seed: int):
    plain = OmegaConf.to_container(cfg, resolve=True)
    return fit_data(plain["data"], plain["eval"], seed, prompt_tokens=len)


def _source(cfg, seed: int):
    return _data(cfg, seed).stream


def _template(cfg) -> str:
    return cfg.data.prompt_template


def _privileged(cfg) -> dict[str, str]:
    return dict(_data(cfg, 0).task.privileged_templates)


def _splits(cfg) -> dict[str, list]:
    return _data(cfg, cfg.seed).eval_splits


def _rows(problems) -> list:
    return [[p.uid, p.problem, p.answer, p.solution] for p in problems]


def _batches(source, n: int, steps: int, rank: int = 0, world: int = 1) -> list:
    items = StepPrompts(source, n, steps, start_step=lambda: 0, rank=rank, world_size=world)
    return [[step, _rows(problems)] for step, problems in items]


def test_training_batches_are_pinned(cfg) -> None:
    for seed in (0, 1):
        got = _digest(_batches(_source(cfg, seed), cfg.prompts_per_step, 12))
        assert got == PINNED[f"train_seed{seed}"], seed
    source = _source(cfg, 0)
    slices = [_batches(source, 8, 5, rank=r, world=2) for r in (0, 1)]
    assert _digest(slices) == PINNED["rank_slices"]


def test_prompts_and_teacher_contexts_are_pinned(cfg) -> None:
    problems = [p for _, ps in StepPrompts(_source(cfg, 0), 8, 3, lambda: 0) for p in ps]
    template = _template(cfg)
    assert _digest([template.format(**p.__dict__) for p in problems]) == PINNED["prompts"]
    contexts = {
        name: [t.format(**p.__dict__, response="R") for p in problems]
        for name, t in sorted(_privileged(cfg).items())
    }
    assert _digest(contexts) == PINNED["contexts"]


def test_test_splits_are_pinned(cfg) -> None:
    splits = _splits(cfg)
    assert sorted(splits) == ["id", "ood"] and all(len(v) == 500 for v in splits.values())
    assert _digest({s: _rows(v) for s, v in splits.items()}) == PINNED["splits"]


def test_composed_defaults_are_those_of_the_leaderboard(cfg) -> None:
    assert cfg.max_new_tokens == 64 and cfg.eval.max_new_tokens == 64
    assert cfg.data.privileged_templates_version == "arith-v1"
    assert dict(cfg.data.privileged_templates) == _privileged(cfg)
    assert dict(cfg.data.spec) == {"min_ops": 1, "max_ops": 4}
