"""Re-run committed leaderboard runs and compare their held-out accuracies digit for digit.

The acceptance test of a refactor: the same config, seed and code path must give the same
numbers as ``leaderboard/results/<algo>_s<seed>/results.json``.

    python benchmarks/reproduce_leaderboard.py --algorithms grpo,rlsd --seed 0 --out /tmp/repro

Each run is ``creditzoo fit +experiment=leaderboard algorithm=<algo> seed=<seed>`` in its own
process (skipped when ``<out>/<algo>_s<seed>/results.json`` exists); the table compares the final
id/ood accuracy and the per-step training curves that both runs logged.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from leaderboard_sweep import EXTRA, VARIANTS  # the committed sweep's overrides and variants

ROOT = Path(__file__).resolve().parents[1]


def committed(algo: str, seed: int) -> dict:
    path = ROOT / "leaderboard" / "results" / f"{algo}_s{seed}" / "results.json"
    return json.loads(path.read_text())


def run(algo: str, seed: int, out: Path) -> Path:
    """One fit with the committed run's settings and torch thread count (float reduction order
    depends on it, so another count gives other, equally valid, numbers)."""
    run_dir = out / f"{algo}_s{seed}"
    if not (run_dir / "results.json").exists():
        threads = committed(algo, seed)["machine"]["torch_threads"]
        cmd = [sys.executable, "-m", "creditzoo", "fit", "+experiment=leaderboard"]
        algorithm, fixed = VARIANTS.get(algo, (algo, EXTRA.get(algo, [])))
        named = [f"variant={algo}"] if algo in VARIANTS else []
        cmd += [f"algorithm={algorithm}", f"seed={seed}", f"output_dir={run_dir}", *named, *fixed]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    return run_dir / "results.json"


def compare(algo: str, seed: int, fresh: Path) -> list[str]:
    old = committed(algo, seed)
    new = json.loads(fresh.read_text())
    rows = []
    for split in ("id", "ood"):
        a, b = old["final"][split]["acc"], new["final"][split]["acc"]
        rows.append(
            f"{algo}_s{seed} {split:<3} committed {a:.4f}  reproduced {b:.4f}  "
            f"{'EXACT' if a == b else 'DIFFERS'}"
        )
    for curve in ("reward/mean", "response/length_mean"):
        x, y = old.get("curves", {}).get(curve), new.get("curves", {}).get(curve)
        if x and y:
            n = min(len(x), len(y))
            diff = max(abs(p[1] - q[1]) for p, q in zip(x[:n], y[:n], strict=True))
            first = next((i for i in range(n) if x[i][1] != y[i][1]), None)
            rows.append(
                f"   {curve}: {n} steps, max |Δ| {diff:.3g}, first differing step "
                f"{first if first is None else x[first][0]}"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", default="grpo,rlsd")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("outputs/reproduce"))
    args = parser.parse_args()
    lines = []
    for algo in args.algorithms.split(","):
        lines += compare(algo, args.seed, run(algo, args.seed, args.out))
        print("\n".join(lines[-4:]), flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
