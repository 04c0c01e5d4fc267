"""What the training loop and the evaluation harness need from a verifier, and the registry.

A verifier grades completions against reference answers: one ``VerifyResult`` per item, in order,
never raising because of model output. It may hold processes (``MathVerifier`` keeps a worker
pool), hence ``close`` and the context manager. ``verifier.name=<registered name>`` picks one;
the other ``verifier.*`` keys are its constructor's options.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from creditzoo.errors import ConfigError
from creditzoo.registry import Registry, lazy, resolve
from creditzoo.verify.result import VerifyResult, VerifyStatus


@runtime_checkable
class Verifier(Protocol):
    """Grades completions; ``close`` releases what it holds (idempotent)."""

    def __call__(
        self, completions: Sequence[str], references: Sequence[str]
    ) -> list[VerifyResult]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Verifier: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


VerifierFactory = Callable[..., Verifier]

# name → factory ``(**verifier options) -> Verifier``. Registered by name only, so choosing a
# verifier imports its module and nothing else does.
VERIFIERS: Registry[VerifierFactory] = Registry(
    "verifier", config_key="verifier.name", entry_point_group="creditzoo.verifiers"
)
VERIFIERS.register("math", lazy("creditzoo.verify.math_verifier:MathVerifier"))


def build_verifier(name: str = "math", **options: Any) -> Verifier:
    """The verifier registered as ``name`` with its ``verifier.*`` options."""
    check_verifier_options(name, options)
    return VERIFIERS.get(name)(**options)


def check_verifier_options(name: str, options: dict[str, Any]) -> None:
    """Name an unknown ``verifier.<key>`` with the known ones, before anything starts."""
    factory = VERIFIERS.get(name)
    target = getattr(factory, "target", None)
    params = inspect.signature(resolve(target) if isinstance(target, str) else factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ConfigError(
            f"unknown option(s) for verifier {name!r}: "
            f"{', '.join(f'verifier.{k}' for k in unknown)}; known: {', '.join(sorted(params))}"
        )


def count_statuses(results: Sequence[VerifyResult]) -> dict[str, int]:
    """Number of results per status, with all four statuses present (for logging)."""
    counts = dict.fromkeys(VerifyStatus.ALL, 0)
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


__all__ = [
    "VERIFIERS",
    "Verifier",
    "build_verifier",
    "check_verifier_options",
    "count_statuses",
]
