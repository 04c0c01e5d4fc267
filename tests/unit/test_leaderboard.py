"""Leaderboard statistics by hand, and byte-identical regeneration."""

import json
from pathlib import Path

from creditzoo.leaderboard import build, main


def _run(path: Path, algo: str, seed: int, final: float) -> None:
    path.mkdir(parents=True)
    curve = [[s, 0.2 + 0.001 * s + 0.01 * seed] for s in range(0, 30)]
    record = {
        "algorithm": algo,
        "algorithm_params": {"name": algo},
        "seed": seed,
        "steps": 30,
        "model": {"name": "tiny"},
        "data": "arith",
        "train_time_s": 12.5,
        "tokens_generated": 1000,
        "initial": {"id": {"acc": 0.27}},
        "final": {"id": {"acc": final}},
        "eval_settings": {"n": 500, "k": 4, "temperature": 1.0},
        "versions": {"torch": "x"},
        "machine": {"cpus": 2},
        "finished_at": f"2026-11-29 0{seed}:00 UTC",
        "curves": {"reward/mean": curve, "val/id/acc": [[0, 0.27], [30, final]]},
    }
    (path / "results.json").write_text(json.dumps(record))


def test_build_is_byte_identical_and_ranks(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for seed, (a, b) in enumerate([(0.30, 0.35), (0.32, 0.37), (0.31, 0.36)]):
        _run(runs / f"grpo_s{seed}", "grpo", seed, a)
        _run(runs / f"rlsd_s{seed}", "rlsd", seed, b)
    first, second = tmp_path / "a", tmp_path / "b"
    build(runs, first)
    build(runs, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert [str(f) for f in files] == [
        "README.md",
        "plots/final_accuracy.png",
        "plots/heldout_vs_step.png",
        "plots/reward_vs_step.png",
    ]
    for f in files:
        assert (first / f).read_bytes() == (second / f).read_bytes(), f
    text = (first / "README.md").read_text()
    headline, full = text.split("## Headline")[1].split("## Full table")
    # rlsd ranks first: mean 0.36 ± 4.30265·0.01/√3 = 0.0248; every seed is grpo + 0.05, so the
    # paired Δ is +0.050 with a zero-width interval (p ≈ 0: bold); gain 0.36 − 0.27 = 0.09.
    rows = [line for line in headline.splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `rlsd` | 3 | 0.360 ± 0.025 | **+0.050 ± 0.000** |")
    assert rows[1].startswith("| `grpo` | 3 | 0.310 ± 0.025 | (reference) |")
    assert "significantly different from `grpo` (paired, p < 0.05, bold): `rlsd` (+0.050" in text
    rows = [line for line in full.splitlines() if line.startswith("| `")]
    assert rows[0].startswith("| `rlsd` | 3 | 0.360 ± 0.025 | 0.090 ± 0.025 |")


def test_missing_runs_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main([f"runs={tmp_path}", f"out={tmp_path / 'o'}"]) == 2
    assert "no results.json under" in capsys.readouterr().err
    assert main(["rnus=x"]) == 2


def test_prose_reads_the_recorded_teacher(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _run(runs / "grpo_s0", "grpo", 0, 0.3)
    _run(runs / "opsd_s0", "opsd", 0, 0.3)
    record = json.loads((runs / "opsd_s0" / "results.json").read_text())
    record["teacher"] = {"context": "answer", "weights": "fixed"}
    (runs / "opsd_s0" / "results.json").write_text(json.dumps(record))
    text = build(runs, tmp_path / "out").read_text()
    assert (
        "- Teacher (privileged context/weights) as the runs recorded it: `grpo` none, "
        "`opsd` answer/fixed.\n"
    ) in text
