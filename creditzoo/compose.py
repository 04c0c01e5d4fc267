"""The composition root of ``creditzoo fit``: every component built bottom-up, in one place.

task → model → verifier → prompt renderer → rollout engine → algorithm → field providers →
held-out evaluation → module → trainer. Each builder reads only its own part of the config;
``creditzoo.fit.run_fit`` orchestrates (train, evaluate, record) and builds nothing itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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
from creditzoo.config_schema import parse_fit
from creditzoo.data.datamodule import PromptDataModule
from creditzoo.data.problem import Problem
from creditzoo.data.prompts import PromptRenderer
from creditzoo.distributed import trainer_kwargs
from creditzoo.errors import ConfigError
from creditzoo.eval.heldout import HeldOutEvaluation
from creditzoo.models.factory import build_model
from creditzoo.models.lora import apply_lora
from creditzoo.module import RLVRModule
from creditzoo.policy_file import SavePolicyWeights
from creditzoo.progress import StepProgressBar
from creditzoo.providers import build_providers
from creditzoo.rollout.sampler import Sampler, build_sampler
from creditzoo.tasks import resolve_template
from creditzoo.tasks.fit_data import FitData, fit_data
from creditzoo.verify.protocol import Verifier, build_verifier


def plain(node: Any) -> Any:
    """A config node as plain Python containers, interpolations resolved."""
    return OmegaConf.to_container(node, resolve=True) if node is not None else None


# Algorithm parameters whose "unknown" value (0) the run settings fill: name → how to read them.
RUN_FACTS = {"total_steps": lambda cfg: int(cfg.max_steps)}


def algorithm_from_config(cfg: DictConfig) -> Algorithm:
    params = dict(plain(cfg.algorithm))
    algorithm = build_algorithm(params.pop("name"), **params)
    known = {f.name for f in dataclasses.fields(algorithm)}  # type: ignore[arg-type]
    facts = {k: read(cfg) for k, read in RUN_FACTS.items() if k in known and params.get(k, 0) == 0}
    if facts:  # e.g. SDPG's β decay over the run's last steps
        algorithm = dataclasses.replace(algorithm, **facts)  # type: ignore[type-var]
    if cfg.group_size < algorithm.min_group_size:
        raise ConfigError(
            f"algorithm {algorithm.name!r} needs group_size >= {algorithm.min_group_size}: its "
            f"credit compares the sibling responses of one prompt, and group_size="
            f"{cfg.group_size} gives none. Set group_size=8 (the default)."
        )
    return algorithm


# Algorithm parameters whose "unknown" value (0) the model can fill: name → how to read it.
MODEL_FACTS = {"vocab_size": lambda model: int(getattr(model.config, "vocab_size", 0) or 0)}


def with_model_facts(algorithm: Algorithm, model: torch.nn.Module) -> Algorithm:
    """The algorithm with each parameter of ``MODEL_FACTS`` left at 0 read from the model
    (e.g. EGRSD's vocabulary size V for its log V entropy normalisation)."""
    known = {f.name for f in dataclasses.fields(algorithm)}  # type: ignore[arg-type]
    facts = {
        name: read(model)
        for name, read in MODEL_FACTS.items()
        if name in known and getattr(algorithm, name) == 0 and hasattr(model, "config")
    }
    facts = {k: v for k, v in facts.items() if v}
    return dataclasses.replace(algorithm, **facts) if facts else algorithm  # type: ignore[type-var]


def policy_from_config(cfg: DictConfig) -> tuple[torch.nn.Module, Any]:
    """The trained model and its tokenizer (LoRA adapters added when ``model.lora.r > 0``)."""
    model_cfg = plain(cfg.model)
    policy, tokenizer = build_model(**model_cfg)
    lora = model_cfg.get("lora") or {}
    if lora.get("r", 0) > 0:
        policy = apply_lora(policy, **lora)
    return policy, tokenizer


@dataclass
class Components:
    """Everything a fit run is made of."""

    algorithm: Algorithm
    data: FitData
    verifier: Verifier
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
    algorithm = with_model_facts(algorithm, policy)
    data_cfg = plain(cfg.data)
    render = PromptRenderer(tokenizer, resolve_template(data_cfg["prompt_template"]))
    data = fit_data(data_cfg, plain(cfg.eval), cfg.seed, prompt_length(render))
    verifier = build_verifier(**plain(cfg.verifier))
    sampler = build_sampler(policy=policy, tokenizer=tokenizer, **plain(cfg.rollout))
    providers = build_providers(
        algorithm,
        policy,
        render,
        temperature=cfg.temperature,
        micro_batch_size=cfg.loss.micro_batch_size,
        kl_coef=cfg.loss.kl_coef,
        teacher=plain(cfg.teacher),
        templates={**data.task.privileged_templates, **(data_cfg["privileged_templates"] or {})},
        step_checker=data.task.check_steps,
    )
    validate = HeldOutEvaluation(
        sampler,
        render,
        verifier,
        data.eval_splits,
        k=cfg.eval.k,
        temperature=cfg.eval.temperature,
        max_new_tokens=cfg.eval.max_new_tokens,
        seed=cfg.eval.seed,
        curve_n=cfg.eval.curve_n,
        curve_k=cfg.eval.curve_k,
    )
    module = RLVRModule(
        policy,
        tokenizer,
        algorithm,
        verifier,
        parse_fit(cfg),
        render=render,
        sampler=sampler,
        providers=providers,
        validate=validate.curve,  # periodic: the curve's subset; fit() runs the full ones
    )
    datamodule = PromptDataModule(data.stream, cfg.prompts_per_step, cfg.max_steps)
    return Components(algorithm, data, verifier, sampler, module, datamodule, validate)


def prompt_length(render: PromptRenderer) -> Callable[[Problem], int]:
    """Tokens of a problem's rendered prompt (for ``data.max_prompt_tokens``)."""

    def length(problem: Problem) -> int:
        ids = render.tokenizer(render(problem), add_special_tokens=False)["input_ids"]
        return len(ids)

    return length


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
        callbacks=[
            checkpoint,
            SavePolicyWeights(ckpt_dir),
            StepProgressBar(),
            CheckpointOnSigterm(ckpt_dir / "last.ckpt"),
            *callbacks,
        ],
        plugins=[AtomicCheckpointIO()],
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        enable_model_summary=False,
        **trainer_kwargs(plain(cfg.trainer)),
    )
