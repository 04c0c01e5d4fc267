"""`creditzoo eval`: one benchmark, one model or a run's policy, settings recorded for citation.

A run's policy is read from its safetensors file (``policy_file``), never from the pickled
Lightning checkpoint, so evaluating someone else's run cannot execute their code.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from creditzoo.data.prompts import PromptRenderer
from creditzoo.errors import ConfigError, MissingDataError
from creditzoo.eval.heldout import HeldOutEvaluation
from creditzoo.io import write_json_atomic
from creditzoo.models.factory import build_model
from creditzoo.models.lora import apply_lora, merged_for_inference
from creditzoo.policy_file import POLICY_FILE, read_policy
from creditzoo.provenance import dist_version, machine, versions
from creditzoo.rollout.hf import HFSampler
from creditzoo.tasks import Task, TaskOptions, data_hash, get_task, load_split, resolve_template
from creditzoo.verify.protocol import build_verifier

log = logging.getLogger("creditzoo")


def policy_location(ckpt: str | Path) -> tuple[Path, Path]:
    """(policy weights, run directory) for ``ckpt=<run dir | policy.safetensors>``.

    A Lightning ``.ckpt`` is refused: it is a pickle, and opening someone else's runs their
    code."""
    path = Path(ckpt)
    if path.suffix == ".ckpt":
        raise ConfigError(
            f"eval does not open Lightning checkpoints ({path.name} is a pickle, which can run "
            f"code); pass ckpt=<the run directory> or ckpt=<run>/checkpoints/{POLICY_FILE}"
        )
    weights = path / "checkpoints" / POLICY_FILE if path.is_dir() else path
    if not weights.is_file():
        raise MissingDataError(
            f"no policy weights at {weights}; pass ckpt=<a `creditzoo fit` run directory> or "
            f"ckpt=<run>/checkpoints/{POLICY_FILE} (a run from before policy files: rerun its "
            f"`creditzoo fit` command with the same output_dir, which writes one)"
        )
    return weights, weights.parent.parent


def run_model_config(ckpt: str | Path) -> dict[str, Any] | None:
    """The ``model`` section the run trained (from its ``config.yaml``), or None."""
    _, run_dir = policy_location(ckpt)
    config = run_dir / "config.yaml"
    if not config.is_file():
        return None
    model = OmegaConf.to_container(OmegaConf.load(config).model, resolve=True)
    assert isinstance(model, dict)
    return model


def load_policy(cfg: DictConfig) -> tuple[torch.nn.Module, Any, dict[str, Any]]:
    """The model to score: ``model=…``, or the policy of a run (``ckpt=<run dir | weights>``)."""
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(model_cfg, dict)
    if not cfg.ckpt:
        model, tokenizer = build_model(**model_cfg)
        return model, tokenizer, {"model": model_cfg, "checkpoint": None}
    weights, _ = policy_location(cfg.ckpt)
    model_cfg = run_model_config(cfg.ckpt) or model_cfg  # the run's architecture wins
    model, tokenizer = build_model(**model_cfg)
    lora = model_cfg.get("lora") or {}
    if lora.get("r", 0) > 0:  # same adapters as in training, then folded into the weights
        model = apply_lora(model, **lora)
    state, meta = read_policy(weights)
    model.load_state_dict(state)
    model = merged_for_inference(model)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    source = {"model": model_cfg, "checkpoint": str(weights), "checkpoint_sha256": digest}
    if "step" in meta:
        source["step"] = int(meta["step"])
    return model, tokenizer, source


def benchmark_task(benchmark: Any) -> Task:
    """The task of ``benchmark.*``, configured with its source keys."""
    section = dict(benchmark)
    return get_task(section["name"], TaskOptions.from_section(section, "benchmark"))


def split_names(task: Task, benchmark: Any) -> list[str]:
    """``benchmark.splits``, else ``[benchmark.split]``, else the task's evaluation splits."""
    chosen = benchmark.get("splits") or ([benchmark["split"]] if benchmark.get("split") else None)
    names = list(chosen or task.default_eval_splits)
    task.check_splits(names, "benchmark.splits")
    return names


def run_eval(cfg: DictConfig, default_out: str | Path) -> dict[str, Any]:
    task = benchmark_task(cfg.benchmark)
    template = resolve_template(cfg.benchmark.prompt_template or task.prompt_template)
    max_new_tokens = cfg.max_new_tokens or task.max_new_tokens
    # Load (and fail on missing data) before the model.
    splits = {s: load_split(task, s, cfg.limit) for s in split_names(task, cfg.benchmark)}
    model, tokenizer, source = load_policy(cfg)
    verifier_cfg = OmegaConf.to_container(cfg.verifier, resolve=True)
    assert isinstance(verifier_cfg, dict)
    started = time.time()
    with build_verifier(**verifier_cfg) as verifier:
        evaluation = HeldOutEvaluation(
            HFSampler(model, tokenizer, batch_size=cfg.batch_size),
            PromptRenderer(tokenizer, template),
            verifier,
            {s: split.problems for s, split in splits.items()},
            k=cfg.k,
            temperature=cfg.temperature,
            max_new_tokens=max_new_tokens,
            seed=cfg.seed,
        )
        results: dict[str, Any] = {}
        for split, r in evaluation.results().items():
            results[split] = {
                "metrics": r.metrics,
                "data_hash": data_hash(splits[split].problems),
                "skipped_no_answer": splits[split].skipped_no_answer,
                "items": r.items,
            }
            log.info("%s/%s: %s", task.name, split, _headline(r.metrics, cfg.k))

    record = {
        "benchmark": task.name,
        "source": source,
        "prompt_template": template,
        "chat_template": bool(getattr(tokenizer, "chat_template", None)),
        "sampling": {
            "k": cfg.k,
            "temperature": cfg.temperature,
            "top_p": 1.0,
            "top_k": 0,
            "max_new_tokens": max_new_tokens,
            "seed": cfg.seed,
        },
        "verifier": {
            "name": "math-verify",
            "version": dist_version("math-verify"),
            "timeout_s": cfg.verifier.timeout_s,
            "extraction": "last \\boxed{}, fallbacks",
        },
        "versions": versions(),
        "machine": machine(),
        "wall_time_s": time.time() - started,
        "splits": results,
    }
    out = (
        Path(cfg.output_dir) / f"{task.name}.json"
        if cfg.output_dir
        else _default_out(source, task.name, default_out)
    )
    write_json_atomic(out, record)
    log.info("results: %s", out)
    return record


def _default_out(source: dict[str, Any], benchmark: str, hydra_dir: str | Path) -> Path:
    if source.get("checkpoint"):
        return Path(source["checkpoint"]).parent.parent / "eval" / f"{benchmark}.json"
    return Path(hydra_dir) / f"{benchmark}.json"


def _headline(m: dict[str, float], k: int) -> str:
    return (
        f"avg@{k} {m['acc']:.3f} ± {m['acc_se']:.3f}, pass@{k} {m[f'pass@{k}']:.3f}, "
        f"maj@{k} {m[f'maj@{k}']:.3f} (n={m['n']})"
    )
