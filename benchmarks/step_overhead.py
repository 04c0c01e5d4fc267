"""Step time of every algorithm against GRPO's, measured side by side on the embedded default.

Runs short fits of each algorithm in interleaved rounds (so machine drift hits all alike), reads
the per-step phase timings the loop logs to TensorBoard, and reports medians after warm-up and the
ratio of each algorithm's step time to GRPO's: per-round paired ratios of medians, their median
(min–max) (``bench_ratios.py``, the definition `make bench` uses too).

    python benchmarks/step_overhead.py [--steps 15] [--rounds 2] [--algorithms grpo,rlsd,cepo]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bench_ratios import DEFINITION, paired_ratio
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from creditzoo import list_algorithms
from creditzoo.fit import run_fit
from creditzoo.hydra_app import register_configs

PHASES = ("step", "generate", "score", "teacher", "verify_wait", "credit", "update")


def step_times(algorithm: str, steps: int, out: Path) -> dict[str, list[float]]:
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_module("creditzoo.configs", version_base="1.3"):
        cfg = compose(
            "fit",
            overrides=[
                f"algorithm={algorithm}",
                f"max_steps={steps}",
                "eval.n=1",
                "eval.k=1",
                "eval.splits=[id]",
                "eval_every=0",
                f"checkpoint_every={steps}",
                "log_samples_every=0",
            ],
        )
    run_fit(cfg, out)
    acc = EventAccumulator(str(out / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    return {p: [e.value for e in acc.Scalars(f"time/{p}")] for p in PHASES if f"time/{p}" in tags}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--algorithms", default=",".join(list_algorithms()))
    parser.add_argument("--out", default="benchmarks/results/step_overhead.json")
    args = parser.parse_args()
    algos = args.algorithms.split(",")
    if "grpo" not in algos:
        algos.insert(0, "grpo")
    samples: dict[str, dict[str, list[float]]] = {a: {} for a in algos}
    step_rounds: dict[str, list[list[float]]] = {a: [] for a in algos}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for a in algos:
                times = step_times(a, args.steps, Path(tmp) / f"{a}-{r}")
                for phase, values in times.items():
                    samples[a].setdefault(phase, []).extend(values[args.warmup :])
                step_rounds[a].append(times["step"][args.warmup :])
    medians = {a: {p: statistics.median(v) for p, v in ph.items()} for a, ph in samples.items()}
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "settings": {
            "steps": args.steps,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "config": "defaults (tiny model, 8 prompts x 8 samples, 64 new tokens)",
            "ratios": DEFINITION,
        },
        "overhead": {a: paired_ratio(step_rounds[a], step_rounds["grpo"]) for a in algos},
        "phase_median_s": medians,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print("| algorithm | step (s) | × grpo | " + " | ".join(PHASES[1:]) + " |")
    print("|---|---|---|" + "---|" * (len(PHASES) - 1))
    for a in algos:
        m = medians[a]
        cells = " | ".join(f"{m[p]:.3f}" if p in m else "-" for p in PHASES[1:])
        o = report["overhead"][a]
        ratio = f"{o['median']:.2f} ({o['min']:.2f}–{o['max']:.2f})"
        print(f"| {a} | {m['step']:.3f} | {ratio} | {cells} |")


if __name__ == "__main__":
    main()
