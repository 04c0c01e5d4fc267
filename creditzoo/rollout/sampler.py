"""The rollout-engine interface and the engine registry (``rollout.engine=<name>``).

An engine turns fully rendered prompt strings into :class:`Sequences`. The training loop knows
only this interface: it calls :meth:`Sampler.generate` before each update and
:meth:`Sampler.sync_weights` after each optimizer step, so an engine that holds its own copy of
the weights (vLLM) can refresh it, while one that shares the policy (HF generate) does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import torch

from creditzoo.rollout.sequences import Sequences


@runtime_checkable
class Sampler(Protocol):
    """What a rollout engine provides."""

    def generate(
        self, prompts: list[str], *, max_new_tokens: int, temperature: float = 1.0
    ) -> Sequences:
        """One response per prompt string (a group repeats its prompt G times).

        ``Sequences.logprobs`` may carry the engine's own log-probs of the sampled tokens; the
        loop then logs their gap to the trainer's log-probs."""
        ...

    def sync_weights(self, policy: torch.nn.Module) -> None:
        """Called after every optimizer step with the updated policy."""
        ...

    # Optional, not part of the structural check: ``metrics() -> dict[str, float]``, the
    # engine's own figures (e.g. the last weight push's seconds), which the loop logs every step
    # as ``rollout/<key>`` through :func:`sampler_metrics`.


def sampler_metrics(sampler: object) -> dict[str, float]:
    """The engine's ``metrics()`` when it has one, else nothing."""
    metrics = getattr(sampler, "metrics", None)
    return {k: float(v) for k, v in metrics().items()} if callable(metrics) else {}


SamplerFactory = Callable[..., Sampler]
_ENGINES: dict[str, str] = {
    # name → "module:attribute", imported on use so optional engines cost nothing when unused.
    "hf": "creditzoo.rollout.hf:HFSampler",
    "vllm": "creditzoo.rollout.vllm:VLLMSampler",
    "static": "creditzoo.rollout.static:StaticCacheSampler",
}


def register_engine(name: str, target: str) -> None:
    """Make ``rollout.engine=<name>`` build ``target`` ("package.module:Class")."""
    _ENGINES[name] = target


def build_sampler(engine: str, policy: torch.nn.Module, tokenizer: Any, **options: Any) -> Sampler:
    """The engine named by ``rollout.engine``; the remaining ``rollout.*`` keys are its options."""
    if engine not in _ENGINES:
        raise ValueError(
            f"unknown rollout engine {engine!r}; known: {', '.join(sorted(_ENGINES))} "
            f"(set rollout=<name>)"
        )
    import importlib

    module_name, attr = _ENGINES[engine].split(":")
    factory = getattr(importlib.import_module(module_name), attr)
    _check_options(engine, factory, options)
    return factory(policy, tokenizer, **options)


def _check_options(engine: str, factory: Callable[..., Any], options: dict[str, Any]) -> None:
    """Name the offending ``rollout.<key>`` and list the valid ones, instead of a TypeError."""
    import inspect

    params = list(inspect.signature(factory).parameters.values())[2:]  # after policy, tokenizer
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    known = {p.name for p in params}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"unknown option(s) for rollout engine {engine!r}: "
            f"{', '.join(f'rollout.{k}' for k in unknown)}; known: {', '.join(sorted(known))}"
        )


__all__ = ["Sampler", "build_sampler", "register_engine", "sampler_metrics"]
