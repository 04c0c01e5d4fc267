"""`creditzoo fit`: check the config, build the run (`compose`), train, evaluate, record."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
from omegaconf import DictConfig, OmegaConf

from creditzoo.compose import build_components, build_trainer, plain
from creditzoo.config_check import check_config
from creditzoo.curves import read_curves
from creditzoo.distributed import is_launch_rank_zero
from creditzoo.io import write_json_atomic
from creditzoo.provenance import machine, versions

log = logging.getLogger("creditzoo")

# Lightning notices that are expected here: checkpoints are taken after the optimizer step on
# purpose (global_step then counts the finished step), and the prompt loader needs no workers.
for _pattern in (
    "Using ModelCheckpoint with manual optimization",
    ".*does not have many workers",
    ".*LeafSpec",
):
    warnings.filterwarnings("ignore", message=_pattern)


def run_fit(
    cfg: DictConfig, output_dir: str | Path, callbacks: list[L.Callback] | None = None
) -> dict[str, Any]:
    """Train, evaluate before and after, and write ``results.json`` into ``output_dir``.

    ``callbacks`` are extra Lightning callbacks (e.g. to inspect gradients or add logging)."""
    check_config("fit", cfg)  # schema and registries: one plain error before anything loads
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    parts = build_components(cfg)
    rank_zero = is_launch_rank_zero()  # every rank runs this function; one writes files
    if rank_zero:
        (out / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    initial_path = out / "initial_eval.json"
    initial = InitialEvaluation(parts.validate, initial_path, write=rank_zero)
    trainer = build_trainer(cfg, out, [initial, *(callbacks or [])])
    resume = out / "checkpoints" / "last.ckpt"
    started = time.time()
    try:
        if resume.exists():
            log.info("resuming from %s", resume)
        ckpt_path = str(resume) if resume.exists() else None
        trainer.fit(parts.module, datamodule=parts.datamodule, ckpt_path=ckpt_path)
        # The periodic checkpoint may predate the last steps; the finished state is kept too.
        trainer.save_checkpoint(resume)
        final = parts.validate(parts.module)
        if trainer.logger is not None:
            trainer.logger.log_metrics(final, step=trainer.global_step)
            trainer.logger.finalize("success")
    finally:
        parts.close()
    results = run_record(cfg, parts, trainer, initial_path, final, started, out)
    if rank_zero:
        write_json_atomic(out / "results.json", results)
    return results


def run_record(cfg, parts, trainer, initial_path: Path, final, started: float, out: Path):
    """What ``results.json`` holds: settings, outcome before/after, cost, curves, provenance."""
    module = parts.module
    initial = json.loads(initial_path.read_text()) if initial_path.exists() else None
    return {
        "algorithm": parts.algorithm.name,
        "variant": cfg.get("variant"),  # the leaderboard row when not the algorithm's name
        # As run: parameters the model filled (e.g. egrsd's vocab_size) are recorded filled.
        "algorithm_params": {"name": parts.algorithm.name, **dataclasses.asdict(parts.algorithm)},
        "model": plain(cfg.model),
        "data": cfg.data.name,
        "data_report": parts.data.report,  # rows skipped, training/evaluation overlap
        "seed": cfg.seed,
        "steps": trainer.global_step,
        "wall_time_s": time.time() - started,  # this invocation, evaluations included
        "train_time_s": module.train_seconds,  # all training steps, across resumes
        "tokens_generated": module.tokens_generated,
        "initial": _by_split(initial) if initial is not None else None,
        "final": _by_split(final),
        "eval_settings": plain(cfg.eval),
        "versions": versions(),
        "machine": machine(),
        "finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "curves": read_curves(out / "tb"),
        "teacher": None,  # the providers' records below fill these when a teacher ran
        "teacher_check": None,
        **{k: v for provider, _ in module.plan for k, v in provider.record().items()},
    }


class InitialEvaluation(L.Callback):
    """Evaluates the untrained policy once, when training starts from step 0.

    It runs inside ``fit`` so that under several processes the process group exists and an
    FSDP policy is already sharded: every rank takes part in the evaluation."""

    def __init__(self, validate, path: Path, *, write: bool) -> None:
        self.validate, self.path, self.write = validate, path, write

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step > 0 or self.path.exists():
            return
        initial = self.validate(pl_module)
        if self.write:
            write_json_atomic(self.path, initial)
        if trainer.logger is not None:
            trainer.logger.log_metrics(initial, step=0)
        log.info("before training: %s", _headline(initial))


def _by_split(flat: dict[str, float]) -> dict[str, dict[str, float]]:
    """``val/<split>/<metric>`` → ``{split: {metric: value}}`` (the ``curve/`` points go to the
    curves only)."""
    nested: dict[str, dict[str, float]] = {}
    for key, value in flat.items():
        if not key.startswith("val/"):
            continue
        _, split, metric = key.split("/", 2)
        nested.setdefault(split, {})[metric] = value
    return nested


def _headline(flat: dict[str, float]) -> str:
    return ", ".join(
        f"{k.split('/')[1]} acc {flat[k]:.3f} ± {flat[k + '_se']:.3f}"
        for k in flat
        if k.startswith("val/") and k.endswith("/acc")
    )
