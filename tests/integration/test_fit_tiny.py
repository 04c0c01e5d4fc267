"""End to end on the embedded default: a few real RL steps with the real tiny model,
real math-verify and real Lightning, checked through what a user sees (results, logs, ckpts)."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from creditzoo import get_algorithm, list_algorithms
from creditzoo.fit import run_fit
from creditzoo.testing import fit_config, read_scalars

SMALL = [
    "max_steps=3",
    "prompts_per_step=2",
    "group_size=4",
    "eval.n=6",
    "eval.k=2",
    "eval.splits=[id]",
    "eval_every=2",
    "checkpoint_every=2",
    "max_new_tokens=48",
    "log_samples_every=1",
]


def test_fit_writes_results_logs_and_checkpoints(tmp_path: Path) -> None:
    results = run_fit(fit_config(SMALL), tmp_path)
    assert results["steps"] == 3
    assert set(results["initial"]) == set(results["final"]) == {"id"}
    assert 0.0 <= results["final"]["id"]["acc"] <= 1.0 and results["final"]["id"]["n"] == 6
    assert results["tokens_generated"] > 0
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["final"] == results["final"]
    assert (tmp_path / "checkpoints" / "last.ckpt").exists()
    assert (tmp_path / "config.yaml").exists()
    scalars = read_scalars(tmp_path)
    for tag in (
        "reward/mean",
        "reward/accuracy",
        "response/length_mean",
        "response/entropy",
        "loss/clip_frac",
        "policy/logprob_gap_mean",
        "time/generate",
        "time/update",
        "verify/timeout",
        "verify/no_answer",
        "algo/adv_abs_mean",
    ):
        assert len(scalars[tag]) == 3, tag
    # Held-out accuracy before training, after step 2 (eval_every=2) and at the end, once each.
    assert [s for s, _ in results["curves"]["val/id/acc"]] == [0, 2, 3]
    assert [s for s, _ in results["curves"]["reward/mean"]] == [0, 1, 2]
    # One PPO epoch: the update's ratio is exp(logp − behaviour logp) ≈ 1.
    assert max(scalars["policy/logprob_gap_max"]) < 1e-3


def test_every_loss_mode_trains(tmp_path: Path) -> None:
    for agg in ("seq_mean", "const_norm"):
        out = tmp_path / agg
        results = run_fit(
            fit_config(
                [
                    *SMALL,
                    "max_steps=1",
                    f"loss.agg={agg}",
                    "algorithm.scale_rewards=none",
                    "loss.kl_coef=0.05",
                    "eval.n=2",
                    "eval.k=1",
                ]
            ),
            out,
        )
        assert results["steps"] == 1


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "creditzoo", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_unknown_algorithm_lists_known(tmp_path: Path) -> None:
    proc = _cli("fit", "algorithm=nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown algorithm 'nope'" in proc.stderr and "grpo" in proc.stderr


def test_cli_list(tmp_path: Path) -> None:
    proc = _cli("list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "grpo" in proc.stdout and "tiny" in proc.stdout and "arith" in proc.stdout


def test_cli_multirun_runs_two_jobs(tmp_path: Path) -> None:
    proc = _cli(
        "fit",
        "-m",
        "algorithm=grpo",
        "seed=0,1",
        *SMALL,
        "max_steps=1",
        "eval.n=2",
        "eval.k=1",
        "hydra.sweep.dir=sweep",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = sorted((tmp_path / "sweep").glob("*/results.json"))
    assert [p.parent.name for p in results] == ["grpo_s0", "grpo_s1"]
    assert {json.loads(p.read_text())["seed"] for p in results} == {0, 1}


@pytest.mark.parametrize("value", ["0", "-1"])
def test_bad_group_size_is_a_clear_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="group_size"):
        run_fit(fit_config([*SMALL, f"group_size={value}"]), tmp_path)


@pytest.mark.parametrize("name", list_algorithms())
def test_every_algorithm_trains(tmp_path: Path, name: str) -> None:
    """Each registered algorithm runs end to end: its teacher passes, its credit, the update."""
    results = run_fit(
        fit_config([*SMALL, f"algorithm={name}", "max_steps=2", "eval.n=2", "eval.k=1"]), tmp_path
    )
    assert results["steps"] == 2 and results["algorithm"] == name
    scalars = read_scalars(tmp_path)
    assert all(math.isfinite(v) for v in scalars["loss/total"])
    # The teacher's metrics are logged exactly when a teacher ran.
    has_teacher = get_algorithm(name).teacher is not None
    assert ("leak/mention_rate" in scalars) == has_teacher
    if not has_teacher:
        assert results["teacher"] is None and results["teacher_check"] is None


def test_opsd_full_and_sampled(tmp_path: Path) -> None:
    for name in ("opsd", "opsd-sampled"):
        out = tmp_path / name
        run_fit(
            fit_config(
                [
                    *SMALL,
                    f"algorithm={name}",
                    "teacher.context=answer",
                    "max_steps=2",
                    "eval.n=2",
                    "eval.k=1",
                ]
            ),
            out,
        )
        scalars = read_scalars(out)
        assert ("loss/distill" in scalars) == (name == "opsd")


def test_teacher_snapshot_is_checkpointed(tmp_path: Path) -> None:
    run_fit(
        fit_config(
            [
                *SMALL,
                "algorithm=rlsd",
                "teacher.weights=snapshot",
                "teacher.sync_every=2",
                "prompts_per_step=8",
                "eval.n=2",
                "eval.k=1",
            ]
        ),
        tmp_path,
    )
    import torch

    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    teacher_state = ckpt["creditzoo"]["providers"]["teacher"]
    policy_state = {k.removeprefix("policy."): v for k, v in ckpt["state_dict"].items()}
    assert ckpt["global_step"] == 3
    # Synced at step 2, then the policy took step 3: the teacher lags the policy.
    assert teacher_state and set(teacher_state) <= set(policy_state)
    assert any(not torch.equal(teacher_state[k], policy_state[k]) for k in teacher_state)


def test_resume_continues_exactly(tmp_path: Path) -> None:
    """A run stopped after 2 steps and rerun to 4 on the same output_dir ends bitwise equal to an
    uninterrupted 4-step run: data, sampling seeds, optimizer and teacher snapshot all resume."""
    import torch

    common = [
        *SMALL,
        "algorithm=rlsd",
        "teacher.sync_every=3",
        "prompts_per_step=4",
        "eval.n=2",
        "eval.k=1",
        "eval_every=0",
        "checkpoint_every=1",
    ]
    run_fit(fit_config([*common, "max_steps=4"]), tmp_path / "straight")
    run_fit(fit_config([*common, "max_steps=2"]), tmp_path / "resumed")
    results = run_fit(fit_config([*common, "max_steps=4"]), tmp_path / "resumed")
    assert results["steps"] == 4

    def state(run: str) -> dict:
        ckpt = torch.load(tmp_path / run / "checkpoints" / "last.ckpt", weights_only=False)
        return {
            "policy": ckpt["state_dict"],
            "teacher": ckpt["creditzoo"]["providers"]["teacher"],
            "adam": ckpt["optimizer_states"][0]["state"],
        }

    a, b = state("straight"), state("resumed")
    for part in ("policy", "teacher"):
        assert a[part].keys() == b[part].keys()
        assert all(torch.equal(a[part][k], b[part][k]) for k in a[part]), part
    assert all(torch.equal(a["adam"][i]["exp_avg"], b["adam"][i]["exp_avg"]) for i in a["adam"])
