"""The official leaderboard sweep: every built-in algorithm × 3 seeds on the embedded default.

    python benchmarks/leaderboard_sweep.py [--seeds 0,1,2] [--algorithms grpo,rlsd,...]
        [--jobs 2 --threads 1]

Each algorithm runs as one Hydra multirun (`creditzoo fit -m algorithm=<a> seed=0,1,2
+experiment=leaderboard`) into leaderboard/runs/ (checkpoints and TensorBoard stay there,
untracked). Each finished run's results.json is copied to leaderboard/results/<algorithm>_s<seed>/
and the table and plots are regenerated with
`creditzoo leaderboard runs=leaderboard/results out=leaderboard`. A run that
already has results is skipped, so an interrupted sweep continues where it stopped.

``--jobs N`` runs N algorithms' multiruns at once, each with ``--threads`` torch threads
(OMP_NUM_THREADS). On 2 cores, 2 jobs × 1 thread finish sooner than 1 job × 2 threads; the
runs' numbers depend on the thread count (float reduction order), which each results.json
records (``machine.torch_threads``) and the leaderboard's header shows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from creditzoo import list_algorithms

# Per-algorithm overrides, shown in the leaderboard's header. None since the warm start reads
# every context (issue 15): each algorithm runs with its own defaults.
EXTRA: dict[str, list[str]] = {}


def _finished(algo: str, seed: str, runs: str, results: Path) -> bool:
    name = f"{algo}_s{seed}"
    return (results / name / "results.json").exists() or (
        Path(runs) / name / "results.json"
    ).exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--algorithms", default=",".join(list_algorithms()))
    parser.add_argument("--runs", default="leaderboard/runs")
    parser.add_argument("--results", default="leaderboard/results")
    parser.add_argument("--out", default="leaderboard")
    parser.add_argument("--jobs", type=int, default=1, help="algorithms run at once")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per run")
    args = parser.parse_args()
    results = Path(args.results)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}

    def run(algo: str) -> None:
        seeds = [s for s in args.seeds.split(",") if not _finished(algo, s, args.runs, results)]
        if seeds:
            cmd = [
                sys.executable,
                "-m",
                "creditzoo",
                "fit",
                "-m",
                f"algorithm={algo}",
                f"seed={','.join(seeds)}",
                "+experiment=leaderboard",
                f"hydra.sweep.dir={args.runs}",
                *EXTRA.get(algo, []),
            ]
            print("$", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True, env=env)
        for s in args.seeds.split(","):
            src = Path(args.runs) / f"{algo}_s{s}" / "results.json"
            if src.exists():
                (results / src.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, results / src.parent.name / "results.json")

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done in [pool.submit(run, a) for a in args.algorithms.split(",")]:
            done.result()  # re-raise a failed run
    subprocess.run(
        [
            sys.executable,
            "-m",
            "creditzoo",
            "leaderboard",
            f"runs={args.results}",
            f"out={args.out}",
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
