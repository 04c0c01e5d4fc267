"""What a user sees in the terminal: each fact once, then a summary they can read.

Hydra configures the root logger (console and ``<run>/<job>.log``); Lightning adds handlers of its
own, so every start-up line printed twice, and advertises a logging service through its info
channel. :func:`quiet_libraries` routes Lightning's records through Hydra's handlers only, drops
the advertisements and silences TensorBoard's and transformers' chatter;
:func:`results_table` formats a run's before/after evaluation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

_OWN_HANDLERS = ("lightning", "lightning.pytorch", "lightning.fabric")
# Lightning loggers → the starts of messages that say nothing to a user of this tool: adverts
# for its services, that max_steps was reached, that a full checkpoint is a full checkpoint.
_NOISE = {
    "lightning.pytorch.utilities.rank_zero": ("💡 Tip", "`Trainer.fit` stopped"),
    "lightning.fabric.utilities.rank_zero": ("💡 Tip",),
    "lightning.pytorch.trainer.connectors.checkpoint_connector": ("`weights_only` was not set",),
}


class _DropNoise(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


def quiet_libraries() -> None:
    """Each library line once, through the root logger's handlers; no adverts, no chatter.

    Idempotent; call it after Hydra (or ``logging.basicConfig``) has configured the root logger.
    """
    import lightning  # noqa: F401  (its import adds the handlers removed here)

    for name in _OWN_HANDLERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
    for name, prefixes in _NOISE.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise(prefixes))
    # TensorBoard's event reader logs every file it opens ("Directory watcher …").
    logging.getLogger("tensorboard").setLevel(logging.WARNING)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights 38/38" at every model load
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass


def results_table(results: Mapping[str, Any]) -> str:
    """Held-out accuracy before and after training, one row per split.

    ``results`` is a ``results.json`` record: ``initial``/``final`` map split → metrics with
    ``acc`` and ``acc_se``."""
    final = results.get("final") or {}
    initial = results.get("initial") or {}
    k = (results.get("eval_settings") or {}).get("k")
    metric = f"avg@{k}" if k else "accuracy"
    rows = [("split", f"before ({metric})", f"after ({metric})", "change")]
    for split, after in final.items():
        before = initial.get(split)
        rows.append(
            (
                split,
                _acc(before) if before else "-",
                _acc(after),
                f"{after['acc'] - before['acc']:+.3f}" if before else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _acc(m: Mapping[str, float]) -> str:
    se = m.get("acc_se")
    return f"{m['acc']:.3f} ± {se:.3f}" if se is not None else f"{m['acc']:.3f}"


__all__ = ["quiet_libraries", "results_table"]
