"""Where a result came from: library versions and the machine, recorded by `fit` and `eval`.

Both commands write these into their JSON results so that a number can be cited with what made
it; one module keeps the two records identical.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

import torch


def machine() -> dict[str, object]:
    """CPU count, torch threads, platform, processor and GPU name (None without one)."""
    return {
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(terse=True),
        "processor": platform.processor() or platform.machine(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def versions() -> dict[str, str]:
    """Versions of creditzoo and the libraries that decide its numbers."""
    import lightning
    import transformers

    import creditzoo

    return {
        "creditzoo": creditzoo.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "lightning": lightning.__version__,
        "python": sys.version.split()[0],
    }


def dist_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


__all__ = ["dist_version", "machine", "versions"]
