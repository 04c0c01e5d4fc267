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

from creditzoo.errors import ConfigError
from creditzoo.registry import Registry, resolve
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

# name → factory ``(policy, tokenizer, **options) -> Sampler``. The engines register themselves
# (``creditzoo/rollout/__init__.py`` imports them; vLLM is registered lazily so that it costs
# nothing unless chosen); this module never imports them.
ENGINES: Registry[SamplerFactory] = Registry(
    "rollout engine", config_key="rollout", entry_point_group="creditzoo.rollout_engines"
)


def build_sampler(engine: str, policy: torch.nn.Module, tokenizer: Any, **options: Any) -> Sampler:
    """The engine named by ``rollout.engine``; the remaining ``rollout.*`` keys are its options."""
    factory = ENGINES.get(engine)
    check_engine_options(engine, options)
    return factory(policy, tokenizer, **options)


def check_engine_options(engine: str, options: dict[str, Any]) -> None:
    """Name the offending ``rollout.<key>`` and list the valid ones, instead of a TypeError.

    Runs before anything is built (the CLI calls it at start-up); a lazily registered engine is
    imported for its signature, which does not import its heavy dependency."""
    import inspect

    factory = ENGINES.get(engine)
    target = getattr(factory, "target", None)
    if isinstance(target, str):
        factory = resolve(target)
    params = list(inspect.signature(factory).parameters.values())[2:]  # after policy, tokenizer
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    known = {p.name for p in params}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(
            f"unknown option(s) for rollout engine {engine!r}: "
            f"{', '.join(f'rollout.{k}' for k in unknown)}; known: {', '.join(sorted(known))}"
        )


__all__ = ["ENGINES", "Sampler", "build_sampler", "check_engine_options", "sampler_metrics"]
