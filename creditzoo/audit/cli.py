"""Arguments of `creditzoo audit`.

``creditzoo audit algorithms=<all | a,b,…> [ckpt=<run dir> | model=…] n_problems=512
group_size=8 seed=0 out=<dir>`` audits; ``realised_problems=<n>`` measures the one-step realised
change on the first n problems only, to save time (default: all). ``creditzoo audit from=<dir>
[out=<dir>]`` rewrites the README, plot and page of an audit from its ``tokens.jsonl.gz``
(byte-identical). Every other ``key=value`` is a `creditzoo fit` setting (model, data,
temperature, teacher.*, loss.*, lr, …), so the audit sees the batch and the credit a training
run with those settings would.
"""

from __future__ import annotations

import json
from pathlib import Path

from creditzoo.errors import ConfigError

OWN_KEYS = ("algorithms", "ckpt", "n_problems", "realised_problems", "out", "from")


def parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    own: dict[str, str] = {}
    fit: list[str] = []
    for item in argv:
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"audit takes key=value arguments, got {item!r}")
        if key in OWN_KEYS:
            own[key] = value
        else:
            fit.append(item)
    return own, fit


def algorithm_names(spec: str) -> list[str]:
    from creditzoo.algorithms import get_algorithm, list_algorithms

    if spec in ("", "all"):
        return list_algorithms()
    names = [n.strip() for n in spec.split(",") if n.strip()]
    for name in names:
        get_algorithm(name)  # an unknown name lists the known ones
    return names


def main(argv: list[str]) -> int:
    own, fit = parse(argv)
    if "from" in own:
        return _regenerate(Path(own["from"]), Path(own.get("out") or own["from"]))
    if "out" not in own:
        raise ConfigError("audit needs out=<dir> (where audit.json, README.md and the dump go)")
    from creditzoo.audit.run import run_audit
    from creditzoo.config_check import checked_config

    n = _positive(own, "n_problems", 512)
    realised = _positive(own, "realised_problems", n)
    cfg = checked_config("fit", fit)
    names = algorithm_names(own.get("algorithms", "all"))
    record = run_audit(cfg, names, n, own.get("ckpt"), Path(own["out"]), realised)
    print(Path(own["out"]) / "README.md", f"({record['provenance']['wall_time_s']} s)")
    return 0


def _positive(own: dict[str, str], key: str, default: int) -> int:
    value = own.get(key, str(default))
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{key} must be a positive integer, got {value!r}")
    return int(value)


def _regenerate(source: Path, out: Path) -> int:
    from creditzoo.audit.dump import DUMP_FILE
    from creditzoo.audit.report import write_report

    audit_file = source / "audit.json"
    if not audit_file.is_file() or not (source / DUMP_FILE).is_file():
        raise ConfigError(
            f"from={source}: needs audit.json and {DUMP_FILE} (an audit's out= folder)"
        )
    record = json.loads(audit_file.read_text())
    if out != source:
        out.mkdir(parents=True, exist_ok=True)
        (out / DUMP_FILE).write_bytes((source / DUMP_FILE).read_bytes())
    metrics = write_report(out, record)
    if json.loads(json.dumps(metrics)) != record["metrics"]:
        raise ConfigError(
            f"the metrics recomputed from {source / DUMP_FILE} differ from audit.json"
        )
    print(out / "README.md")
    return 0
