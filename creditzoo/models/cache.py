"""Build an artefact into the cache once, even with several processes asking at the same time."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("CREDITZOO_CACHE", Path.home() / ".cache" / "creditzoo"))


def build_once(path: Path, build: Callable[[Path], None], is_built: Callable[[Path], bool]) -> Path:
    """Run ``build(tmp_dir)`` under a file lock and rename the result to ``path``.

    Concurrent callers wait for the one builder; a killed build leaves only a temporary
    directory behind, never a half-built ``path``.
    """
    if is_built(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f"{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_built(path):  # another process built it while we waited
            return path
        tmp = path.parent / f"{path.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        build(tmp)
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    return path
