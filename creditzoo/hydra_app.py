"""Hydra entry points and the config store of registered algorithms."""

from __future__ import annotations

import logging

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from creditzoo.algorithms import algorithm_defaults, list_algorithms

log = logging.getLogger("creditzoo")


def register_configs() -> None:
    """One ``algorithm/<name>`` option per registered algorithm, from its dataclass defaults."""
    store = ConfigStore.instance()
    for name in list_algorithms():
        store.store(group="algorithm", name=name, node={"name": name, **algorithm_defaults(name)})


@hydra.main(config_path="configs", config_name="fit", version_base="1.3")
def fit_app(cfg: DictConfig) -> None:
    from creditzoo.fit import run_fit

    output_dir = cfg.output_dir or HydraConfig.get().runtime.output_dir
    results = run_fit(cfg, output_dir)
    log.info("results: %s/results.json", output_dir)
    log.info("final: %s", results["final"])


@hydra.main(config_path="configs", config_name="eval", version_base="1.3")
def eval_app(cfg: DictConfig) -> None:
    from creditzoo.evaluation import run_eval

    run_eval(cfg, HydraConfig.get().runtime.output_dir)
