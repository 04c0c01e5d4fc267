"""Nothing is lost: kills resume exactly, SIGTERM stops cleanly, NaN stops loudly, bad input
gets one clear error."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from test_fit_tiny import SMALL

from creditzoo.fit import run_fit
from creditzoo.tasks import TaskOptions, get_task, load_split
from creditzoo.testing import fit_config

FIXTURES = Path(__file__).parent.parent / "fixtures"
RUN = [
    *SMALL,
    "algorithm=rlsd",
    "teacher.sync_every=3",
    "prompts_per_step=4",
    "max_steps=6",
    "checkpoint_every=2",
    "eval_every=0",
    "eval.n=2",
    "eval.k=1",
    "log_samples_every=0",
]


def _policy(run_dir: Path) -> dict[str, torch.Tensor]:
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)
    return ckpt["state_dict"]


def _fit_process(out: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "creditzoo", "fit", *RUN, f"output_dir={out}"],
        cwd=out.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> dict[str, torch.Tensor]:
    out = tmp_path_factory.mktemp("straight")
    run_fit(fit_config(RUN), out)
    return _policy(out)


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "weights differ"


def test_sigkill_after_a_checkpoint_resumes_bitwise(tmp_path: Path, straight) -> None:
    out = tmp_path / "run"
    proc = _fit_process(out)
    _wait_for(out / "checkpoints" / "step000002.ckpt", proc)
    proc.kill()  # SIGKILL: no handler runs
    proc.wait()
    assert not (out / "results.json").exists()
    again = _fit_process(out)
    assert again.wait(timeout=600) == 0, again.stderr.read()[-2000:]
    assert (out / "results.json").exists()
    _assert_same(_policy(out), straight)


def test_sigterm_saves_and_exits_cleanly_then_resumes(tmp_path: Path, straight) -> None:
    out = tmp_path / "run"
    proc = _fit_process(out)
    _wait_for(out / "checkpoints" / "step000002.ckpt", proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()[-2000:]
    assert "SIGTERM: saved step" in (out / "hydra_app.log").read_text()
    stopped = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["global_step"]
    assert 2 <= stopped < 6 and not (out / "results.json").exists()
    again = _fit_process(out)
    assert again.wait(timeout=600) == 0, again.stderr.read()[-2000:]
    _assert_same(_policy(out), straight)


def test_no_temporary_checkpoint_files_are_left(tmp_path: Path) -> None:
    run_fit(fit_config([*RUN, "max_steps=2"]), tmp_path)
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")]


def test_nan_loss_stops_naming_the_step_and_checkpoint(tmp_path: Path) -> None:
    from creditzoo import Algorithm, Credit, register
    from creditzoo.algorithms import ALGORITHMS
    from creditzoo.module import NonFiniteLossError

    @register("_nan_after_two")
    @dataclass
    class NanAfterTwo(Algorithm):
        def compute(self, batch):
            fill = float("nan") if batch.step >= 2 else 0.5
            return Credit(
                advantages=torch.full(batch.response_mask.shape, fill) * batch.response_mask
            )

    try:
        with pytest.raises(NonFiniteLossError, match=r"at step 2.*last good checkpoint"):
            run_fit(fit_config([*RUN, "algorithm=_nan_after_two"]), tmp_path)
    finally:
        ALGORITHMS.unregister("_nan_after_two")
    assert (
        torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["global_step"] == 2
    )


def test_group_of_one_needs_siblings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs group_size ≥ 2"):
        run_fit(fit_config([*SMALL, "algorithm=grpo", "group_size=1"]), tmp_path)


def test_rows_without_a_reference_answer_are_skipped() -> None:
    task = get_task("gsm8k", TaskOptions(path=str(FIXTURES / "gsm8k_missing_answer.jsonl")))
    split = load_split(task, "test")
    assert [p.answer for p in split.problems] == ["2"] and split.skipped_no_answer == 1


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("model=nope", "Known models: hf, smollm2-135m, tiny"),
        ("data=nope", "Known tasks: aime24, amc23, arith"),
        ("algorithm=nope", "Known algorithms: cepo"),
        ("algorithm.epsilon_ww=0.3", "Did you mean 'epsilon_w'?"),
    ],
)
def test_unknown_names_give_one_clear_error(tmp_path: Path, override: str, fragment: str) -> None:
    extra = ["algorithm=rlsd"] if override.startswith("algorithm.") else []
    proc = subprocess.run(
        [sys.executable, "-m", "creditzoo", "fit", *extra, override],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert fragment in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_unknown_benchmark_lists_known(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "creditzoo", "eval", "benchmark=nope"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "Known tasks: aime24, amc23, arith" in proc.stderr
