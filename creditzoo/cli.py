"""`creditzoo fit|list` — Hydra-composed configs from creditzoo/configs.

``creditzoo fit [-m] key=value ...`` passes its arguments to Hydra unchanged, so sweeps work:
``creditzoo fit -m algorithm=grpo seed=0,1`` runs two jobs. Algorithms (built-in and plugins)
need no YAML: each registered name becomes an ``algorithm/<name>`` option holding its
parameters' defaults.
"""

from __future__ import annotations

import logging
import os
import sys

USAGE = """usage: creditzoo <command> [key=value ...]

commands:
  fit          train with RLVR (Hydra overrides; -m sweeps, e.g. -m algorithm=grpo seed=0,1)
  eval         score a model or checkpoint: model=… | ckpt=<run dir>, benchmark=…, k=…, limit=…
  leaderboard  runs=<dir of runs> out=<dir>: table (mean ± 95% CI over seeds) and plots
  list         algorithms (with what they require), models, data, benchmarks
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from creditzoo.errors import PluginLoadError

    try:
        return _main(argv)
    except PluginLoadError as err:
        print(f"creditzoo: {err}", file=sys.stderr)
        return 2


def _main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if command == "fit":
        return _fit(rest)
    if command == "eval":
        return _hydra("eval", rest)
    if command == "leaderboard":
        from creditzoo.leaderboard import main as leaderboard_main

        return leaderboard_main(rest)
    if command == "list":
        from creditzoo.listing import print_listing

        print_listing()
        return 0
    print(f"creditzoo: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


def _fit(overrides: list[str]) -> int:
    from creditzoo.algorithms import get_algorithm

    # Check algorithm names ourselves: the error lists every known algorithm, plugins included.
    for item in overrides:
        key, _, value = item.partition("=")
        if key.lstrip("+~") == "algorithm":
            for name in value.split(","):
                try:
                    get_algorithm(name)
                except KeyError as err:
                    print(f"creditzoo fit: {err}", file=sys.stderr)
                    return 2
    multirun = any(a in ("-m", "--multirun") for a in overrides)
    if multirun and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        print(
            "creditzoo fit: -m sweeps cannot run under torchrun with several processes; "
            "launch one torchrun per job instead",
            file=sys.stderr,
        )
        return 2
    if not multirun:
        # An explicit output_dir is also the hydra run dir, so nothing else is created.
        output_dirs = [
            item.split("=", 1)[1]
            for item in overrides
            if item.startswith("output_dir=") and item.split("=", 1)[1] not in ("", "null")
        ]
        overrides += [f"hydra.run.dir={d}" for d in output_dirs[-1:]]
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            if not output_dirs:
                print(
                    "creditzoo fit: under torchrun pass output_dir=<dir> so that every process "
                    "writes to the same run directory (a time-stamped default differs per rank)",
                    file=sys.stderr,
                )
                return 2
            if int(os.environ.get("RANK", "0")) > 0:  # rank 0 keeps Hydra's files and log
                overrides += ["hydra.output_subdir=null", "hydra/job_logging=stdout"]
    return _hydra("fit", overrides)


def _hydra(command: str, overrides: list[str]) -> int:
    from creditzoo import hydra_app

    hydra_app.register_configs()
    app = {"fit": hydra_app.fit_app, "eval": hydra_app.eval_app}[command]
    sys.argv = [f"creditzoo-{command}", *overrides]
    try:
        app()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main())
