"""`creditzoo audit`: sample once, credit with every algorithm, measure, write the outputs."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from creditzoo.algorithms import Algorithm
from creditzoo.algorithms.ops import group_baseline_advantage
from creditzoo.audit import collect, effective
from creditzoo.audit.dump import DUMP_FILE, compact, write_dump
from creditzoo.audit.report import write_report
from creditzoo.compose import plain
from creditzoo.config_schema import parse_fit
from creditzoo.data.prompts import PromptRenderer
from creditzoo.errors import ConfigError
from creditzoo.eval.run import load_policy
from creditzoo.io import write_json_atomic
from creditzoo.models.factory import build_model
from creditzoo.provenance import machine, versions
from creditzoo.rollout.sampler import build_sampler
from creditzoo.tasks import load_split, resolve_template
from creditzoo.tasks.fit_data import training_task
from creditzoo.verify.protocol import build_verifier

log = logging.getLogger("creditzoo")

CONTROLS = ("control:position", "control:surprisal", "control:unrelated_teacher")


def run_audit(
    cfg: DictConfig,
    algorithms: list[str],
    n_problems: int,
    ckpt: str | None,
    out: Path,
    realised_problems: int | None = None,
) -> dict[str, Any]:
    """Audit ``algorithms`` on one batch of ``n_problems`` × ``cfg.group_size`` responses; the
    realised change is measured on the first ``realised_problems`` problems (None: all; one
    update and one rescoring per algorithm, the audit's most expensive part)."""
    started = time.time()
    settings = parse_fit(cfg)
    data_cfg = plain(cfg.data)
    task = training_task(data_cfg)
    if task.check_steps is None:
        raise ConfigError(
            f"creditzoo audit needs a task whose steps can be checked (data=arith); "
            f"data={task.name} has no step checker"
        )
    policy, tokenizer, source = load_policy(OmegaConf.create({"model": cfg.model, "ckpt": ckpt}))
    policy.eval()
    algos: list[Algorithm] = [collect.build(name, policy) for name in algorithms]
    problems = _problems(task, cfg.seed, n_problems)
    render = PromptRenderer(tokenizer, resolve_template(data_cfg["prompt_template"]))
    sampler = build_sampler(policy=policy, tokenizer=tokenizer, **plain(cfg.rollout))
    verifier = build_verifier(**plain(cfg.verifier))
    templates = {**task.privileged_templates, **(data_cfg["privileged_templates"] or {})}
    timings: dict[str, float] = {}
    try:
        t0 = time.time()
        batch = collect.sample_batch(
            sampler, render, verifier, problems, settings, task.check_steps, tokenizer
        )
        timings["sample_s"] = time.time() - t0
        _say(f"sampled and checked {batch.seqs.num_rows} responses ({timings['sample_s']:.0f} s)")
    finally:
        verifier.close()
        getattr(sampler, "close", lambda: None)()
    t0 = time.time()
    # A run's reference model (ref_logprobs) is its initial policy: the configured model.
    reference = build_model(**plain(cfg.model))[0].eval() if ckpt else None
    fields = collect.compute_fields(
        batch,
        algos,
        policy,
        render,
        settings,
        plain(cfg.teacher),
        templates,
        task.check_steps,
        reference=reference,
    )
    logprobs = fields[0]["logprobs"]
    timings["fields_s"] = time.time() - t0
    _say(f"computed every field the algorithms read ({timings['fields_s']:.0f} s)")
    mask, ids = batch.seqs.response_mask, batch.seqs.response_ids
    weights = effective.loss_weights(mask, settings)
    credit: dict[str, torch.Tensor] = {}
    realised_problems = min(realised_problems or n_problems, n_problems)
    realised_rows = realised_problems * settings.group_size
    t0 = time.time()
    for i, (algorithm, algo_fields) in enumerate(zip(algos, fields, strict=True)):
        _say(f"credit of {algorithm.name} ({i + 1}/{len(algos)}), its one-step update")
        rollout = collect.rollout_batch(batch, algo_fields)
        c = algorithm(rollout)
        credit[algorithm.name] = c.advantages
        credit[f"{algorithm.name}:prefix"] = effective.prefix_aggregated(
            c.advantages, ids, mask, batch.group_ids, weights
        )
        credit[f"{algorithm.name}:realised"] = effective.realised_change(
            policy, batch, rollout, c, settings, realised_rows
        )
    timings["credit_s"] = time.time() - t0
    lengths = mask.sum(dim=1, keepdim=True).clamp(min=1)
    position = torch.arange(mask.shape[1])[None, :] + 1
    credit["control:position"] = -(position / lengths) * mask
    credit["control:surprisal"] = logprobs * mask
    credit["control:unrelated_teacher"] = collect.unrelated_teacher_delta(
        batch, policy, render, settings, templates, logprobs
    )
    outcome = group_baseline_advantage(batch.rewards, batch.group_ids, "group", 1e-6)
    out.mkdir(parents=True, exist_ok=True)
    write_dump(out / DUMP_FILE, _records(batch, tokenizer, credit, outcome))
    weights_file = source.get("checkpoint")
    settings_record = {
        "algorithms": algorithms,
        "controls": list(CONTROLS),
        "n_problems": n_problems,
        "realised_problems": realised_problems,
        "group_size": settings.group_size,
        "seed": cfg.seed,
        "temperature": settings.temperature,
        "max_new_tokens": settings.max_new_tokens,
        "lr": settings.lr,
        "loss_agg": settings.loss.agg,
        "data": task.name,
        "model": source["model"],
        "checkpoint": weights_file,
        "checkpoint_step": source.get("step"),
        "checkpoint_sha256": source.get("checkpoint_sha256"),
        "algorithm_params": {a.name: _params(a) for a in algos},
    }
    record = {
        "settings": settings_record,
        "provenance": {
            "versions": versions(),
            "machine": machine(),
            "finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "wall_time_s": round(time.time() - started, 1),
            "timings_s": {k: round(v, 1) for k, v in timings.items()},
            "dump_sha256": hashlib.sha256((out / DUMP_FILE).read_bytes()).hexdigest(),
        },
    }
    record["metrics"] = write_report(out, record)
    write_json_atomic(out / "audit.json", record)
    return record


def _say(message: str) -> None:
    print(f"creditzoo audit: {message}", file=sys.stderr, flush=True)


def _problems(task, seed: int, n: int):
    if task.stream is not None:
        return task.stream(task, seed).train_batch(0, n)
    return load_split(task, task.train_split(), n).problems


def _params(algorithm: Algorithm) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(algorithm)  # type: ignore[call-overload]


def _records(batch: collect.FrozenBatch, tokenizer, credit: dict[str, torch.Tensor], outcome):
    g = batch.group_size
    mask = batch.seqs.response_mask
    labels = batch.fields["process_labels"]
    for i, text in enumerate(batch.seqs.texts):
        n = int(mask[i].sum())
        offsets = batch.offsets[i]
        ids = batch.seqs.response_ids[i, :n].tolist()
        tokens = (
            [text[a:b] for a, b in offsets]
            if offsets is not None
            else tokenizer.convert_ids_to_tokens(ids)
        )
        check = batch.checks[i]
        problem = batch.problems[i // g]
        yield {
            "uid": f"{problem.uid}/{i % g}",
            "group": i // g,
            "problem": problem.problem,
            "reference": problem.answer,
            "reward": batch.verdicts[i].reward,
            "correct": bool(batch.verdicts[i].correct),
            "text": text,
            "tokens": tokens,
            "offsets": offsets,
            "labels": labels[i, :n].tolist(),
            "category": check.category,
            "first_error": check.first_error,
            "error_kind": check.kind,
            "advantage": round(float(outcome[i]), 6),
            # The realised change covers the first rows only (``realised_problems``).
            "credit": {
                name: compact(c[i, :n].tolist()) for name, c in credit.items() if i < len(c)
            },
        }
