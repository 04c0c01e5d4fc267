"""`creditzoo eval`: one benchmark, one model or checkpoint, settings recorded for citation."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from creditzoo.data.prompts import PromptRenderer
from creditzoo.eval.benchmarks import data_hash, get_benchmark, load_problems, resolve_template
from creditzoo.eval.evaluate import evaluate
from creditzoo.io import write_json_atomic
from creditzoo.models.factory import build_model
from creditzoo.models.lora import apply_lora, merged_for_inference
from creditzoo.rollout.hf import HFSampler
from creditzoo.verify import MathVerifier

log = logging.getLogger("creditzoo")


def load_policy(cfg: DictConfig) -> tuple[torch.nn.Module, Any, dict[str, Any]]:
    """The model to score: ``model=…``, or the policy saved in ``ckpt=<run dir | .ckpt>``."""
    model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
    if not cfg.ckpt:
        model, tokenizer = build_model(**model_cfg)
        return model, tokenizer, {"model": model_cfg, "checkpoint": None}
    ckpt = Path(cfg.ckpt)
    if ckpt.is_dir():
        ckpt = ckpt / "checkpoints" / "last.ckpt"
    if not ckpt.exists():
        raise FileNotFoundError(
            f"no checkpoint at {ckpt}; pass ckpt=<run directory with checkpoints/last.ckpt> or "
            f"ckpt=<path to a .ckpt file>"
        )
    run_config = ckpt.parent.parent / "config.yaml"
    if run_config.exists():  # the architecture the run trained, whatever model= says
        model_cfg = OmegaConf.to_container(OmegaConf.load(run_config).model, resolve=True)
    model, tokenizer = build_model(**model_cfg)
    lora = model_cfg.get("lora") or {}
    if lora.get("r", 0) > 0:  # same adapters as in training, then folded into the weights
        model = apply_lora(model, **lora)
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    policy = {k.removeprefix("policy."): v for k, v in state.items() if k.startswith("policy.")}
    model.load_state_dict(policy)
    model = merged_for_inference(model)
    digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    return (
        model,
        tokenizer,
        {"model": model_cfg, "checkpoint": str(ckpt), "checkpoint_sha256": digest},
    )


def run_eval(cfg: DictConfig, default_out: str | Path) -> dict[str, Any]:
    bench = get_benchmark(cfg.benchmark.name)
    template = resolve_template(cfg.benchmark.prompt_template or bench.prompt_template)
    max_new_tokens = cfg.max_new_tokens or bench.max_new_tokens
    splits = list(cfg.benchmark.splits or bench.splits)
    problems = {
        s: load_problems(bench.name, s, path=cfg.benchmark.path, limit=cfg.limit) for s in splits
    }  # load (and fail on missing data) before the model
    model, tokenizer, source = load_policy(cfg)
    render = PromptRenderer(tokenizer, template)
    sampler = HFSampler(model, tokenizer, batch_size=cfg.batch_size)
    started = time.time()
    results: dict[str, Any] = {}
    with MathVerifier(cfg.verifier.timeout_s, cfg.verifier.num_workers) as verifier:
        for split, items in problems.items():
            r = evaluate(
                sampler,
                render,
                verifier,
                items,
                k=cfg.k,
                temperature=cfg.temperature,
                max_new_tokens=max_new_tokens,
                seed=cfg.seed,
            )
            results[split] = {"metrics": r.metrics, "data_hash": data_hash(items), "items": r.items}
            log.info("%s/%s: %s", bench.name, split, _headline(r.metrics, cfg.k))
    from creditzoo.fit import _machine, _versions

    record = {
        "benchmark": bench.name,
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
            "version": _dist_version("math-verify"),
            "timeout_s": cfg.verifier.timeout_s,
            "extraction": "last \\boxed{}, fallbacks",
        },
        "versions": _versions(),
        "machine": _machine(),
        "wall_time_s": time.time() - started,
        "splits": results,
    }
    out = Path(cfg.out) if cfg.out else _default_out(source, bench.name, default_out)
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


def _dist_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
