"""benchmarks/leaderboard_sweep.py: rows (algorithms and named variants), seeds, extra
overrides, and resuming — finished runs are skipped (dry runs: no training here)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import load_benchmark

sweep = load_benchmark("leaderboard_sweep")


def test_default_rows_seeds_and_variants() -> None:
    rows = sweep.default_rows()
    for name in (
        "grpo",
        "oracle",
        "sdpo",
        "sdpo-rlcsd",
        "srpo",
        "sdpg",
        "rlsd-const",
        "cepo-const",
    ):
        assert name in rows
    args = sweep.parse_args([])
    assert len(args.seeds.split(",")) >= 5 and args.experiment == "leaderboard"


def test_variant_command_records_its_row_and_extra_overrides_come_last() -> None:
    cmd = sweep.fit_command(
        "rlsd-const", ["0", "3"], Path("runs"), "leaderboard", ["group_size=4", "temperature=1.2"]
    )
    assert cmd[3:] == [
        "fit", "-m", "algorithm=rlsd", "seed=0,3", "+experiment=leaderboard",
        "hydra.sweep.dir=runs", "variant=rlsd-const", "hydra.sweep.subdir=rlsd-const_s${seed}",
        "algorithm.lambda_decay_steps=0", "group_size=4", "temperature=1.2",
    ]  # fmt: skip
    plain = sweep.fit_command("oracle", ["1"], Path("r"), "other", [])
    assert plain[5:] == ["algorithm=oracle", "seed=1", "+experiment=other", "hydra.sweep.dir=r"]


def test_resume_skips_finished_runs(tmp_path: Path, capsys) -> None:
    runs, results, out = tmp_path / "runs", tmp_path / "results", tmp_path / "out"
    done = [results / "grpo_s0", runs / "grpo_s1", runs / "rlsd-const_s0"]
    for d in done:
        d.mkdir(parents=True)
        (d / "results.json").write_text(json.dumps({"seed": 0}))
    argv = ["--seeds", "0,1,2,3,4", "--algorithms", "grpo,rlsd-const", "--runs", str(runs)]
    argv += ["--results", str(results), "--out", str(out), "--dry-run"]
    argv += ["--overrides", "loss.mini_batches=2 group_size=4"]
    sweep.main(argv)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("$")]
    assert "algorithm=grpo seed=2,3,4 " in printed[0]
    assert printed[0].endswith("loss.mini_batches=2 group_size=4")
    assert "algorithm=rlsd seed=1,2,3,4 " in printed[1]
    assert printed[2].endswith(f"out={out} audit=none")  # no warm-start audit there
    # Collecting copies the finished runs' results into results/<row>_s<seed>/.
    copied = sweep.collect("grpo", ["0", "1", "2"], runs, results)
    assert copied == [results / "grpo_s1" / "results.json"]
    assert sweep.finished("grpo", "1", runs, results)
    assert not sweep.finished("grpo", "2", runs, results)


def test_unknown_row_is_an_error(capsys) -> None:
    import pytest

    with pytest.raises(SystemExit):
        sweep.parse_args(["--algorithms", "grpo,rlsd-constant"])
    assert "unknown row(s) ['rlsd-constant']" in capsys.readouterr().err
