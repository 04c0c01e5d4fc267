"""Hydra entry points of `creditzoo fit` and `creditzoo eval`.

Inside a Hydra task an ordinary exception is printed with its traceback (Hydra's
``run_and_report``) while ``SystemExit`` passes through; so a ``UserError`` (bad input found
while running: a missing data file, a model that cannot load) is printed as its plain message
and turned into exit status 2 here. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from creditzoo.config_store import register_configs
from creditzoo.errors import UserError

log = logging.getLogger("creditzoo")

__all__ = ["eval_app", "fit_app", "plain_errors", "register_configs"]


def plain_errors(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Report a ``UserError`` as ``creditzoo <command>: <message>`` and exit with status 2."""

    def decorate(task: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(task)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return task(*args, **kwargs)
            except UserError as err:
                print(f"creditzoo {command}: {err}", file=sys.stderr)
                sys.exit(2)

        return wrapper

    return decorate


@hydra.main(config_path="configs", config_name="fit", version_base="1.3")
@plain_errors("fit")
def fit_app(cfg: DictConfig) -> None:
    from creditzoo.console import quiet_libraries, results_table
    from creditzoo.fit import run_fit

    quiet_libraries()
    output_dir = cfg.output_dir or HydraConfig.get().runtime.output_dir
    results = run_fit(cfg, output_dir)
    log.info("held-out evaluation:\n%s", results_table(results))
    log.info("run directory: %s (results.json, config.yaml, tb/, checkpoints/)", output_dir)


@hydra.main(config_path="configs", config_name="eval", version_base="1.3")
@plain_errors("eval")
def eval_app(cfg: DictConfig) -> None:
    from creditzoo.console import quiet_libraries
    from creditzoo.eval.run import run_eval

    quiet_libraries()
    run_eval(cfg, HydraConfig.get().runtime.output_dir)
