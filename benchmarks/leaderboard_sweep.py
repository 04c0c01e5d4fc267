"""The official leaderboard sweep: every built-in algorithm and named variant × 5 seeds.

    python benchmarks/leaderboard_sweep.py [--seeds 0,1,2,3,4] [--algorithms grpo,rlsd-const,...]
        [--experiment leaderboard] [--overrides "group_size=4 temperature=1.2"]
        [--jobs 2 --threads 1] [--dry-run]

Each row runs as one Hydra multirun (`creditzoo fit -m algorithm=<a> seed=0,1,... +experiment=
leaderboard <overrides>`) into leaderboard/runs/<row>_s<seed>/ (checkpoints and TensorBoard
stay there, untracked). A named variant (``VARIANTS``, e.g. ``rlsd-const``) is its base
algorithm with fixed overrides, run with ``variant=<name>`` so results.json records it and the
leaderboard shows it as its own row. Each finished run's results.json is copied to
leaderboard/results/<row>_s<seed>/ and the table and plots are regenerated with
`creditzoo leaderboard runs=leaderboard/results out=leaderboard` (with the warm-start credit
audit, leaderboard/credit/warmstart/, when it is there).

Resuming: a run that already has results (in --results or --runs) is skipped, and an
interrupted run resumes from its last checkpoint (fit resumes in an existing output folder), so
an interrupted sweep continues where it stopped. The check is by name only: a sweep in another
setting (other --experiment/--overrides) must use other --runs/--results folders.

``--jobs N`` runs N rows' multiruns at once, each with ``--threads`` torch threads
(OMP_NUM_THREADS). On 2 cores, 2 jobs × 1 thread finish sooner than 1 job × 2 threads; the
runs' numbers depend on the thread count (float reduction order), which each results.json
records (``machine.torch_threads``) and the leaderboard's header shows.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from creditzoo import list_algorithms

# Per-algorithm overrides, shown in the leaderboard's header. None since the warm start reads
# every context (issue 15): each algorithm runs with its own defaults.
EXTRA: dict[str, list[str]] = {}

# Named variants: row name → (algorithm, overrides). λ constant (lambda_decay_steps ≤ 0 keeps
# λ = lambda_init, `ops.linear_decay`) isolates the teacher signal: with the default decay it is
# gone by step 50 (rlsd) or 25 (cepo) of 150 and the method is plain GRPO after that.
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "rlsd-const": ("rlsd", ["algorithm.lambda_decay_steps=0"]),
    "cepo-const": ("cepo", ["algorithm.lambda_decay_steps=0"]),
}

DEFAULT_SEEDS = "0,1,2,3,4"
AUDIT = Path("credit") / "warmstart"  # relative to --out


def default_rows() -> list[str]:
    """Every registered algorithm (the oracle, the positive control, included) and variant."""
    return [*list_algorithms(), *VARIANTS]


def finished(row: str, seed: str, runs: Path, results: Path) -> bool:
    name = f"{row}_s{seed}"
    return (results / name / "results.json").exists() or (runs / name / "results.json").exists()


def fit_command(
    row: str, seeds: list[str], runs: Path, experiment: str, overrides: list[str]
) -> list[str]:
    """The multirun of ``row`` over ``seeds``: base algorithm, experiment, the variant's
    overrides, then the sweep's (which win: Hydra applies overrides in order)."""
    algorithm, fixed = VARIANTS.get(row, (row, EXTRA.get(row, [])))
    cmd = [sys.executable, "-m", "creditzoo", "fit", "-m", f"algorithm={algorithm}"]
    cmd += [f"seed={','.join(seeds)}", f"+experiment={experiment}", f"hydra.sweep.dir={runs}"]
    if row in VARIANTS:
        # Its own row and folder: results.json records the variant, runs/<variant>_s<seed>/.
        cmd += [f"variant={row}", f"hydra.sweep.subdir={row}_s${{seed}}"]
    return cmd + fixed + overrides


def collect(row: str, seeds: list[str], runs: Path, results: Path) -> list[Path]:
    """Copy each finished run's results.json to results/<row>_s<seed>/; the copies made."""
    copied = []
    for s in seeds:
        src = runs / f"{row}_s{s}" / "results.json"
        if src.exists():
            dst = results / src.parent.name / "results.json"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied.append(dst)
    return copied


def leaderboard_command(results: Path, out: Path) -> list[str]:
    cmd = [sys.executable, "-m", "creditzoo", "leaderboard", f"runs={results}", f"out={out}"]
    audit = out / AUDIT / "audit.json"
    return [*cmd, f"audit={audit if audit.exists() else 'none'}"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=DEFAULT_SEEDS)
    parser.add_argument(
        "--algorithms",
        default=",".join(default_rows()),
        help=f"rows: registered algorithms and variants ({', '.join(VARIANTS)})",
    )
    parser.add_argument("--experiment", default="leaderboard", help="+experiment=<name>")
    parser.add_argument(
        "--overrides",
        default="",
        help='extra fit overrides for every run, e.g. "group_size=4 temperature=1.2 '
        'loss.mini_batches=2"',
    )
    parser.add_argument("--runs", type=Path, default=Path("leaderboard/runs"))
    parser.add_argument("--results", type=Path, default=Path("leaderboard/results"))
    parser.add_argument("--out", type=Path, default=Path("leaderboard"))
    parser.add_argument("--jobs", type=int, default=1, help="rows run at once")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per run")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = parser.parse_args(argv)
    known = set(default_rows())
    unknown = [a for a in args.algorithms.split(",") if a not in known]
    if unknown:
        parser.error(f"unknown row(s) {unknown}; known: {', '.join(sorted(known))}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    seeds = args.seeds.split(",")
    overrides = shlex.split(args.overrides)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}

    def run(row: str) -> None:
        todo = [s for s in seeds if not finished(row, s, args.runs, args.results)]
        if todo:
            cmd = fit_command(row, todo, args.runs, args.experiment, overrides)
            print("$", shlex.join(cmd), flush=True)
            if not args.dry_run:
                subprocess.run(cmd, check=True, env=env)
        if not args.dry_run:
            collect(row, seeds, args.runs, args.results)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done in [pool.submit(run, a) for a in args.algorithms.split(",")]:
            done.result()  # re-raise a failed run
    cmd = leaderboard_command(args.results, args.out)
    print("$", shlex.join(cmd), flush=True)
    if not args.dry_run:
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
