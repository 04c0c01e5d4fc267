"""`creditzoo fit`: build every component from the resolved config and train."""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from creditzoo.algorithms import build_algorithm
from creditzoo.checkpointing import AtomicCheckpointIO, CheckpointOnSigterm
from creditzoo.config_check import check_config
from creditzoo.curves import read_curves
from creditzoo.data.datamodule import PromptDataModule
from creditzoo.data.prompts import PromptRenderer
from creditzoo.data.sources import build_source
from creditzoo.distributed import is_launch_rank_zero, trainer_kwargs
from creditzoo.eval.benchmarks import resolve_template
from creditzoo.eval.evaluate import evaluate
from creditzoo.io import write_json_atomic
from creditzoo.models.factory import build_model
from creditzoo.models.lora import apply_lora
from creditzoo.models.util import initial_policy
from creditzoo.module import LoopSettings, RLVRModule
from creditzoo.policy_file import SavePolicyWeights
from creditzoo.progress import StepProgressBar
from creditzoo.provenance import machine, versions
from creditzoo.rollout.sampler import build_sampler
from creditzoo.rollout.scorer import BatchScorer
from creditzoo.rollout.teacher import TEACHER_FIELDS, ContextBuilder, Teacher, TeacherWeights
from creditzoo.verify import MathVerifier

log = logging.getLogger("creditzoo")

# Lightning notices that are expected here: checkpoints are taken after the optimizer step on
# purpose (global_step then counts the finished step), and the prompt loader needs no workers.
for _pattern in (
    "Using ModelCheckpoint with manual optimization",
    ".*does not have many workers",
    ".*LeafSpec",
):
    warnings.filterwarnings("ignore", message=_pattern)


def loop_settings(cfg: DictConfig) -> LoopSettings:
    return LoopSettings(
        seed=cfg.seed,
        group_size=cfg.group_size,
        max_new_tokens=cfg.max_new_tokens,
        temperature=cfg.temperature,
        lr=cfg.lr,
        weight_decay=cfg.optim.weight_decay,
        betas=tuple(cfg.optim.betas),
        max_grad_norm=cfg.optim.max_grad_norm,
        micro_batch_size=cfg.loss.micro_batch_size,
        agg=cfg.loss.agg,
        clip_low=cfg.loss.clip_low,
        clip_high=cfg.loss.clip_high,
        kl_coef=cfg.loss.kl_coef,
        eval_every=cfg.eval_every,
        log_samples_every=cfg.log_samples_every,
        single_pass=cfg.loss.get("single_pass", True),
    )


def build_algorithm_from_config(cfg: DictConfig):
    params = OmegaConf.to_container(cfg.algorithm, resolve=True)
    assert isinstance(params, dict)
    name = params.pop("name")
    return build_algorithm(name, **params)


def run_fit(
    cfg: DictConfig, output_dir: str | Path, callbacks: list[L.Callback] | None = None
) -> dict[str, Any]:
    """Train, evaluate before and after, and write ``results.json`` into ``output_dir``.

    ``callbacks`` are extra Lightning callbacks (e.g. to inspect gradients or add logging)."""
    check_config("fit", cfg)  # schema and registries: one plain error before anything loads
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    algorithm = build_algorithm_from_config(cfg)
    if cfg.group_size < algorithm.min_group_size:
        raise ValueError(
            f"algorithm {algorithm.name!r} needs group_size >= {algorithm.min_group_size}: its "
            f"credit compares the sibling responses of one prompt, and group_size="
            f"{cfg.group_size} gives none. Set group_size=8 (the default)."
        )
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    policy, tokenizer = build_model(**model_cfg)
    lora = model_cfg.get("lora") or {}
    if lora.get("r", 0) > 0:
        policy = apply_lora(policy, **lora)
    data_cfg = OmegaConf.to_container(cfg.data, resolve=True)
    source = build_source(data_cfg["name"], cfg.seed, **data_cfg.get("spec", {}))
    rank_zero = is_launch_rank_zero()  # every rank runs this function; one writes files
    if rank_zero:
        (out / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))

    verifier = MathVerifier(timeout_s=cfg.verifier.timeout_s, num_workers=cfg.verifier.num_workers)
    render = PromptRenderer(tokenizer, resolve_template(data_cfg["prompt_template"]))
    rollout_cfg = OmegaConf.to_container(cfg.rollout, resolve=True)
    sampler = build_sampler(policy=policy, tokenizer=tokenizer, **rollout_cfg)
    ref_model = initial_policy(policy) if cfg.loss.kl_coef > 0 else None
    scorer = BatchScorer(
        policy,
        temperature=cfg.temperature,
        micro_batch_size=cfg.loss.micro_batch_size,
        ref_model=ref_model,
    )
    teacher = (
        build_teacher(cfg, algorithm, policy, render)
        if set(algorithm.requires) & TEACHER_FIELDS
        else None
    )
    eval_sets = {split: source.test_split(split, cfg.eval.n) for split in cfg.eval.splits}

    def validate(module: RLVRModule) -> dict[str, float]:
        results = {
            split: evaluate(
                sampler,
                render,
                verifier,
                problems,
                k=cfg.eval.k,
                temperature=cfg.eval.temperature,
                max_new_tokens=cfg.eval.max_new_tokens,
                seed=cfg.eval.seed,
            ).metrics
            for split, problems in eval_sets.items()
        }
        return {f"val/{split}/{k}": float(v) for split, m in results.items() for k, v in m.items()}

    module = RLVRModule(
        policy,
        tokenizer,
        algorithm,
        verifier,
        loop_settings(cfg),
        render=render,
        sampler=sampler,
        scorer=scorer,
        teacher=teacher,
        validate=validate,
    )
    datamodule = PromptDataModule(source, cfg.prompts_per_step, cfg.max_steps)
    ckpt_dir = out / "checkpoints"
    resume = ckpt_dir / "last.ckpt"
    checkpoint = ModelCheckpoint(
        dirpath=ckpt_dir,
        filename="step{step:06d}",
        auto_insert_metric_name=False,
        every_n_train_steps=cfg.checkpoint_every,
        save_top_k=1,
        monitor=None,
        save_last=True,
    )
    initial_path = out / "initial_eval.json"
    trainer = L.Trainer(
        max_steps=cfg.max_steps,
        max_epochs=-1,
        logger=TensorBoardLogger(save_dir=str(out), name="tb", version="", default_hp_metric=False),
        callbacks=[
            checkpoint,
            SavePolicyWeights(ckpt_dir),
            StepProgressBar(),
            CheckpointOnSigterm(resume),
            InitialEvaluation(validate, initial_path, write=rank_zero),
            *(callbacks or []),
        ],
        plugins=[AtomicCheckpointIO()],
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        enable_model_summary=False,
        **trainer_kwargs(OmegaConf.to_container(cfg.trainer, resolve=True)),
    )

    started = time.time()
    try:
        if resume.exists():
            log.info("resuming from %s", resume)
        trainer.fit(
            module, datamodule=datamodule, ckpt_path=str(resume) if resume.exists() else None
        )
        # The periodic checkpoint may predate the last steps; the finished state is kept too.
        trainer.save_checkpoint(resume)
        final = validate(module)
        if trainer.logger is not None:
            trainer.logger.log_metrics(final, step=trainer.global_step)
            trainer.logger.finalize("success")
    finally:
        verifier.close()
        # Engines with their own processes (vLLM) stop here, not at exit: a sweep runs its jobs
        # in one process.
        getattr(sampler, "close", lambda: None)()
    results = {
        "algorithm": algorithm.name,
        "algorithm_params": OmegaConf.to_container(cfg.algorithm, resolve=True),
        "model": model_cfg,
        "data": data_cfg["name"],
        "seed": cfg.seed,
        "steps": trainer.global_step,
        "wall_time_s": time.time() - started,  # this invocation, evaluations included
        "train_time_s": module.train_seconds,  # all training steps, across resumes
        "tokens_generated": module.tokens_generated,
        "initial": _by_split(json.loads(initial_path.read_text()))
        if initial_path.exists()
        else None,
        "final": _by_split(final),
        "eval_settings": OmegaConf.to_container(cfg.eval, resolve=True),
        "teacher": None
        if teacher is None
        else {"context": teacher.context, "weights": teacher.weights.mode},
        "versions": versions(),
        "machine": machine(),
        "finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "curves": read_curves(out / "tb"),
    }
    if rank_zero:
        write_json_atomic(out / "results.json", results)
    return results


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


def build_teacher(cfg: DictConfig, algorithm, policy: torch.nn.Module, render) -> Teacher:
    """The teacher the algorithm asks for; ``teacher.*`` keys override its preferences."""
    t = cfg.teacher
    weights = TeacherWeights(
        policy,
        mode=t.weights or algorithm.teacher_weights,
        sync_every=t.sync_every,
        ema_decay=t.ema_decay,
    )
    templates = OmegaConf.to_container(cfg.data.get("privileged_templates") or {}, resolve=True)
    return Teacher(
        weights,
        ContextBuilder(render, templates),
        context=t.context or algorithm.teacher_context,
        num_negatives=algorithm.num_negatives,
        top_k=algorithm.teacher_top_k,
        temperature=cfg.temperature,
        micro_batch_size=cfg.loss.micro_batch_size,
    )


def _by_split(flat: dict[str, float]) -> dict[str, dict[str, float]]:
    nested: dict[str, dict[str, float]] = {}
    for key, value in flat.items():
        _, split, metric = key.split("/", 2)
        nested.setdefault(split, {})[metric] = value
    return nested


def _headline(flat: dict[str, float]) -> str:
    return ", ".join(
        f"{k.split('/')[1]} acc {flat[k]:.3f} ± {flat[k + '_se']:.3f}"
        for k in flat
        if k.endswith("/acc")
    )
