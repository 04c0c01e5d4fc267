"""``tokens.jsonl.gz``: one line per audited response, enough to recompute every number.

Credit values are written with 4 significant digits; the report is computed from the file as
written (also right after the audit), so ``creditzoo audit from=<out>`` gives the same bytes.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DUMP_FILE = "tokens.jsonl.gz"


def compact(values: Iterable[float]) -> list[float]:
    return [float(f"{v:.4g}") for v in values]


def write_dump(path: Path, records: Iterable[dict[str, Any]]) -> None:
    # mtime=0 and no file name in the header: the same records give the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        for record in records:
            gz.write((json.dumps(record, separators=(",", ":")) + "\n").encode())


def read_dump(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt") as fh:
        for line in fh:
            yield json.loads(line)
