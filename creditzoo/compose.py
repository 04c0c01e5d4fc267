"""The composition root of ``creditzoo fit``: every component built bottom-up, in one place.

task → model → verifier → prompt renderer → rollout engine → algorithm → field providers →
held-out evaluation → module → trainer. Each builder reads only its own part of the config;
``creditzoo.fit.run_fit`` orchestrates (train, evaluate, record) and builds nothing itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import DictConfig, OmegaConf

from creditzoo.algorithms import Algorithm, build_algorithm
from creditzoo.checkpointing import AtomicCheckpointIO, CheckpointOnSigterm
from creditzoo.data.datamodule import PromptDataModule
from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.data.sources import ProblemSource, build_source
from creditzoo.distributed import trainer_kwargs
from creditzoo.errors import ConfigError
from creditzoo.harness.benchmarks import resolve_template
from creditzoo.harness.evaluate import evaluate
from creditzoo.models.factory import build_model
from creditzoo.models.lora import apply_lora
from creditzoo.module import LoopSettings, RLVRModule
from creditzoo.providers import build_providers
from creditzoo.rollout.sampler import Sampler, build_sampler
from creditzoo.verify import MathVerifier


def plain(node: Any) -> Any:
    """A config node as plain Python containers, interpolations resolved."""
    return OmegaConf.to_container(node, resolve=True) if node is not None else None


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
        mini_batches=cfg.loss.get("mini_batches", 1),
    )


def algorithm_from_config(cfg: DictConfig, vocab_size: int | None = None) -> Algorithm:
    """The configured algorithm; ``vocab_size``: the model's, when known (``fill_vocab_size``)."""
    params = dict(plain(cfg.algorithm))
    algorithm = fill_vocab_size(build_algorithm(params.pop("name"), **params), vocab_size)
    if cfg.group_size < algorithm.min_group_size:
        raise ConfigError(
            f"algorithm {algorithm.name!r} needs group_size >= {algorithm.min_group_size}: its "
            f"credit compares the sibling responses of one prompt, and group_size="
            f"{cfg.group_size} gives none. Set group_size=8 (the default)."
        )
    return algorithm


def fill_vocab_size(algorithm: Algorithm, vocab_size: int | None) -> Algorithm:
    """A parameter ``vocab_size`` left at 0 ("unknown") takes the model's vocabulary size V."""
    if not vocab_size or getattr(algorithm, "vocab_size", None) != 0:
        return algorithm
    return dataclasses.replace(algorithm, vocab_size=vocab_size)  # type: ignore[type-var]


def model_vocab_size(policy: torch.nn.Module) -> int | None:
    """The width of the model's next-token distribution (its config's ``vocab_size``)."""
    size = getattr(getattr(policy, "config", None), "vocab_size", None)
    return int(size) if isinstance(size, int) and size > 1 else None


def policy_from_config(cfg: DictConfig) -> tuple[torch.nn.Module, Any]:
    """The trained model and its tokenizer (LoRA adapters added when ``model.lora.r > 0``)."""
    model_cfg = plain(cfg.model)
    policy, tokenizer = build_model(**model_cfg)
    lora = model_cfg.get("lora") or {}
    if lora.get("r", 0) > 0:
        policy = apply_lora(policy, **lora)
    return policy, tokenizer


@dataclass
class HeldOutEvaluation:
    """avg@k (and pass@k, maj@k) of the current policy on fixed held-out splits.

    Called with the module, it returns ``{"val/<split>/<metric>": value}``."""

    sampler: Sampler
    render: PromptRenderer
    verifier: Any
    splits: Mapping[str, list[Problem]]
    k: int
    temperature: float
    max_new_tokens: int
    seed: int

    def __call__(self, module: RLVRModule | None = None) -> dict[str, float]:
        out: dict[str, float] = {}
        for split, problems in self.splits.items():
            metrics = evaluate(
                self.sampler,
                self.render,
                self.verifier,
                problems,
                k=self.k,
                temperature=self.temperature,
                max_new_tokens=self.max_new_tokens,
                seed=self.seed,
            ).metrics
            out |= {f"val/{split}/{k}": float(v) for k, v in metrics.items()}
        return out


@dataclass
class Components:
    """Everything a fit run is made of."""

    algorithm: Algorithm
    source: ProblemSource
    verifier: Any
    sampler: Sampler
    module: RLVRModule
    datamodule: PromptDataModule
    validate: HeldOutEvaluation

    def close(self) -> None:
        """Stop worker processes (the verifier's, a vLLM engine's): a sweep runs its jobs in
        one process, so they must not wait for exit."""
        self.verifier.close()
        getattr(self.sampler, "close", lambda: None)()


def build_components(cfg: DictConfig) -> Components:
    algorithm = algorithm_from_config(cfg)  # cheap and strict: fails before any model loads
    policy, tokenizer = policy_from_config(cfg)
    algorithm = fill_vocab_size(algorithm, model_vocab_size(policy))
    data_cfg = plain(cfg.data)
    source = build_source(data_cfg["name"], cfg.seed, **data_cfg.get("spec", {}))
    verifier = MathVerifier(timeout_s=cfg.verifier.timeout_s, num_workers=cfg.verifier.num_workers)
    render = PromptRenderer(tokenizer, resolve_template(data_cfg["prompt_template"]))
    sampler = build_sampler(policy=policy, tokenizer=tokenizer, **plain(cfg.rollout))
    providers = build_providers(
        algorithm,
        policy,
        render,
        temperature=cfg.temperature,
        micro_batch_size=cfg.loss.micro_batch_size,
        kl_coef=cfg.loss.kl_coef,
        teacher=plain(cfg.teacher),
        templates=plain(cfg.data.get("privileged_templates")) or {},
    )
    validate = HeldOutEvaluation(
        sampler,
        render,
        verifier,
        {split: source.test_split(split, cfg.eval.n) for split in cfg.eval.splits},
        k=cfg.eval.k,
        temperature=cfg.eval.temperature,
        max_new_tokens=cfg.eval.max_new_tokens,
        seed=cfg.eval.seed,
    )
    module = RLVRModule(
        policy,
        tokenizer,
        algorithm,
        verifier,
        loop_settings(cfg),
        render=render,
        sampler=sampler,
        providers=providers,
        validate=validate,
    )
    datamodule = PromptDataModule(source, cfg.prompts_per_step, cfg.max_steps)
    return Components(algorithm, source, verifier, sampler, module, datamodule, validate)


def build_trainer(cfg: DictConfig, out: Path, callbacks: list[L.Callback]) -> L.Trainer:
    """Lightning's trainer: TensorBoard logs, periodic + last + on-SIGTERM checkpoints."""
    ckpt_dir = out / "checkpoints"
    checkpoint = ModelCheckpoint(
        dirpath=ckpt_dir,
        filename="step{step:06d}",
        auto_insert_metric_name=False,
        every_n_train_steps=cfg.checkpoint_every,
        save_top_k=1,
        monitor=None,
        save_last=True,
    )
    return L.Trainer(
        max_steps=cfg.max_steps,
        max_epochs=-1,
        logger=TensorBoardLogger(save_dir=str(out), name="tb", version="", default_hp_metric=False),
        callbacks=[checkpoint, CheckpointOnSigterm(ckpt_dir / "last.ckpt"), *callbacks],
        plugins=[AtomicCheckpointIO()],
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        enable_model_summary=False,
        **trainer_kwargs(plain(cfg.trainer)),
    )
