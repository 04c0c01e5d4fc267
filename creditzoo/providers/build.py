"""Which providers a run needs, built from the algorithm's declared needs and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import torch

from creditzoo.algorithms.base import Algorithm
from creditzoo.data.prompts import PromptRenderer
from creditzoo.models.util import initial_policy
from creditzoo.process.steps import StepChecker
from creditzoo.providers.base import Provider, check_coverage
from creditzoo.providers.policy import BehaviourProvider, ReferenceProvider
from creditzoo.providers.process import ProcessLabelProvider
from creditzoo.providers.teacher import (
    NEGATIVE_FIELDS,
    POSITIVE_FIELDS,
    TeacherProvider,
    TeacherWeights,
)


def required_fields(algorithm: Algorithm, kl_coef: float) -> frozenset[str]:
    """What the algorithm reads, plus what the loss reads (the KL penalty's reference)."""
    return frozenset(algorithm.requires) | ({"ref_logprobs"} if kl_coef > 0 else frozenset())


def build_providers(
    algorithm: Algorithm,
    policy: torch.nn.Module,
    render: PromptRenderer,
    *,
    temperature: float,
    micro_batch_size: int,
    kl_coef: float = 0.0,
    teacher: Mapping[str, Any] | None = None,
    templates: Mapping[str, str] | None = None,
    step_checker: StepChecker | None = None,
) -> list[Provider]:
    """The providers of every field the run needs, and no others.

    Args:
        teacher: the ``teacher.*`` config (``context``, ``weights``, ``negative_context``: null
            keeps the algorithm's choice; ``sync_every``; ``ema_decay``: null keeps the algorithm's
            ``TeacherSpec.ema_decay``; ``check``: warn, strict
            or off, see ``providers.teacher_check``).
        templates: privileged-context templates of the task (``data.privileged_templates``).
        step_checker: the task's ``check_steps``, for ``process_labels``.
    """
    needed = required_fields(algorithm, kl_coef)
    scoring = {"temperature": temperature, "micro_batch_size": micro_batch_size}
    providers: list[Provider] = [BehaviourProvider(policy, **scoring)]
    if "ref_logprobs" in needed:
        providers.append(ReferenceProvider(initial_policy(policy), **scoring))
    if "process_labels" in needed and step_checker is not None:
        providers.append(ProcessLabelProvider(step_checker, render.tokenizer))
    spec = algorithm.teacher_spec()
    if spec is not None and needed & (POSITIVE_FIELDS | NEGATIVE_FIELDS):
        t = dict(teacher or {})
        spec = replace(
            spec,
            **{k: t[k] for k in ("context", "weights", "negative_context") if t.get(k)},
        )
        weights = TeacherWeights(
            policy,
            mode=spec.weights,
            sync_every=t.get("sync_every", 10),
            ema_decay=spec.ema_decay if t.get("ema_decay") is None else t["ema_decay"],
        )
        teacher_provider = TeacherProvider(
            weights, spec, render, templates=templates, check=t.get("check", "warn"), **scoring
        )
        providers.append(teacher_provider)
    check_coverage(needed, providers, f"algorithm {algorithm.name!r}")
    return providers
