"""`creditzoo fit|eval|leaderboard|audit|list` — Hydra-composed configs from creditzoo/configs.

``creditzoo fit [-m] key=value ...`` passes its arguments to Hydra unchanged, so sweeps work:
``creditzoo fit -m algorithm=grpo seed=0,1`` runs two jobs. Algorithms (built-in and plugins)
need no YAML: each registered name becomes an ``algorithm/<name>`` option holding its
parameters' defaults.

Every config (each job of a sweep) is composed and checked (``config_check``) before Hydra runs
the command, so bad input is reported as one or two plain lines on stderr with exit status 2,
before any model loads. A ``UserError`` raised later (a missing data file, say) is reported the
same way; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys

USAGE = """usage: creditzoo <command> [key=value ...]

commands:
  fit          train with RLVR (Hydra overrides; -m sweeps, e.g. -m algorithm=grpo seed=0,1)
  eval         score a model or a run: model=… | ckpt=<run dir>, benchmark=<task>, k=…, limit=…,
               output_dir=<dir>
  leaderboard  runs=<dir of runs> out=<dir> [reference=grpo] [audit=<audit.json>|none]: table
               (mean ± 95% CI over seeds, paired Δ vs the reference, p, MDD) and plots
  audit        credit against the known first error: algorithms=<all|a,b> [ckpt=<run dir>]
               n_problems=512 out=<dir> (any fit setting too); from=<dir> regenerates the report
  list         algorithms (what they require, their teacher and parameters), models, tasks
               (data=<task> and benchmark=<task>, with their splits), rollout engines, verifiers
"""

EXIT_USER_ERROR = 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    from creditzoo.errors import UserError

    try:
        return _run(command, rest)
    except UserError as err:
        report(command, err)
        return EXIT_USER_ERROR


def report(command: str, err: BaseException) -> None:
    """The plain-words form of a user error: ``creditzoo <command>: <message>`` on stderr."""
    print(f"creditzoo {command}: {err}", file=sys.stderr)


def _run(command: str, rest: list[str]) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if command == "fit":
        return _fit(rest)
    if command == "eval":
        return _eval(rest)
    if command == "leaderboard":
        from creditzoo.leaderboard import main as leaderboard_main

        return leaderboard_main(rest)
    if command == "audit":
        from creditzoo.audit.cli import main as audit_main

        return audit_main(rest)
    if command == "list":
        if rest:
            print(f"creditzoo list: takes no arguments, got {' '.join(rest)}", file=sys.stderr)
            return EXIT_USER_ERROR
        from creditzoo.listing import print_listing

        print_listing()
        return 0
    print(f"creditzoo: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return EXIT_USER_ERROR


def _fit(overrides: list[str]) -> int:
    from creditzoo.config_check import checked_config, sweep_jobs
    from creditzoo.errors import ConfigError

    multirun = any(a in ("-m", "--multirun") for a in overrides)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if multirun and world_size > 1:
        raise ConfigError(
            "-m sweeps cannot run under torchrun with several processes; launch one torchrun "
            "per job instead"
        )
    for job in sweep_jobs(overrides) if multirun else [overrides]:
        checked_config("fit", job)
    if not multirun:
        overrides = overrides + _run_dir(overrides)
        if world_size > 1:
            if not _output_dir(overrides):
                raise ConfigError(
                    "under torchrun pass output_dir=<dir> so that every process writes to the "
                    "same run directory (a time-stamped default differs per rank)"
                )
            if int(os.environ.get("RANK", "0")) > 0:  # rank 0 keeps Hydra's files and log
                overrides += ["hydra.output_subdir=null", "hydra/job_logging=stdout"]
    return _hydra("fit", overrides)


def _eval(overrides: list[str]) -> int:
    from creditzoo.config_check import checked_config
    from creditzoo.errors import ConfigError

    for item in overrides:
        if item.split("=", 1)[0].lstrip("+~") == "out":
            raise ConfigError(
                "out= is now output_dir=<dir>, as in fit (the results go to <dir>/<benchmark>.json)"
            )
    if any(a in ("-m", "--multirun") for a in overrides):
        raise ConfigError("eval runs one evaluation; call it once per setting instead of -m")
    checked_config("eval", overrides)
    return _hydra("eval", overrides + _run_dir(overrides))


def _output_dir(overrides: list[str]) -> str | None:
    values = [
        item.split("=", 1)[1]
        for item in overrides
        if item.startswith("output_dir=") and item.split("=", 1)[1] not in ("", "null")
    ]
    return values[-1] if values else None


def _run_dir(overrides: list[str]) -> list[str]:
    """An explicit output_dir is also Hydra's run dir, so nothing else is created."""
    out = _output_dir(overrides)
    return [f"hydra.run.dir={out}"] if out else []


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
    sys.exit(main())
