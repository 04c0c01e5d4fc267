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


SamplerFactory = Callable[..., Sampler]
_ENGINES: dict[str, str] = {
    # name → "module:attribute", imported on use so optional engines cost nothing when unused.
    "hf": "creditzoo.rollout.hf:HFSampler",
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
    return factory(policy, tokenizer, **options)


__all__ = ["Sampler", "build_sampler", "register_engine"]
