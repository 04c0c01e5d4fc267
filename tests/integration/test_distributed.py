"""Real multi-process training on CPU: torchrun, 2 gloo ranks, DDP and FSDP2 (fully_shard).

The equivalence test is the one that matters: a 2-rank step must produce the gradients of one
process on the concatenated batch (the loss is normalised by global token counts, DDP averages
over ranks, so the loss is scaled by the world size — a bug in any of these shows up here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from creditzoo.cli import main as cli_main
from creditzoo.distributed import trainer_kwargs

WORKER = Path(__file__).with_name("ddp_grad_worker.py")
PROMPTS_WORKER = Path(__file__).with_name("prompts_worker.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
SMALL = [
    "prompts_per_step=4",
    "group_size=4",
    "max_new_tokens=48",
    "eval.n=4",
    "eval.k=2",
    "eval.splits=[id]",
    "log_samples_every=0",
    "checkpoint_every=1",
]


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.fixture(scope="module")
def one_process_grads(tmp_path_factory) -> dict[str, torch.Tensor]:
    tmp = tmp_path_factory.mktemp("one")
    _run([sys.executable, str(WORKER), str(tmp / "g.pt")], tmp)
    saved = torch.load(tmp / "g.pt")
    assert saved["world_size"] == 1
    return saved["grads"]


@pytest.mark.parametrize(
    "overrides",
    [
        ["trainer=ddp"],  # 3-row micro-batches: accumulation under no_sync
        ["trainer=ddp", "loss.micro_batch_size=64"],  # single pass: one forward feeds the loss
        ["trainer=fsdp"],
    ],
    ids=["ddp", "ddp-single-pass", "fsdp"],
)
def test_two_ranks_give_the_gradients_of_one_process(overrides, one_process_grads, tmp_path):
    _run([*TORCHRUN, str(WORKER), str(tmp_path / "g.pt"), *overrides], tmp_path)
    saved = torch.load(tmp_path / "g.pt")
    assert saved["world_size"] == 2
    grads = saved["grads"]
    assert grads.keys() == one_process_grads.keys()
    largest = max(float(g.abs().max()) for g in one_process_grads.values())
    assert largest > 1e-3, "the step had no learning signal; the comparison would be vacuous"
    for name, g in one_process_grads.items():
        torch.testing.assert_close(grads[name], g, rtol=1e-4, atol=1e-6, msg=name)


def test_torchrun_ddp_fit_resumes(tmp_path):
    run = tmp_path / "run"
    fit = [*TORCHRUN, "-m", "creditzoo", "fit", "trainer=ddp", f"output_dir={run}", *SMALL]
    _run([*fit, "max_steps=2"], tmp_path)
    first = json.loads((run / "results.json").read_text())
    assert first["steps"] == 2 and first["initial"] and first["final"]["id"]["n"] == 4
    _run([*fit, "max_steps=3"], tmp_path)  # continues from checkpoints/last.ckpt
    second = json.loads((run / "results.json").read_text())
    assert second["steps"] == 3 and second["initial"] == first["initial"]


def test_torchrun_fsdp_fit_with_a_snapshot_teacher(tmp_path):
    # rlsd: teacher passes every step; a snapshot teacher copied from the *sharded* policy.
    run = tmp_path / "run"
    _run(
        [*TORCHRUN, "-m", "creditzoo", "fit", "trainer=fsdp", "algorithm=rlsd", "max_steps=2",
         "teacher.sync_every=1", f"output_dir={run}", *SMALL],
        tmp_path,
    )  # fmt: skip
    results = json.loads((run / "results.json").read_text())
    assert results["steps"] == 2 and results["teacher"]["weights"] == "snapshot"
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    embed = state["policy.model.embed_tokens.weight"]
    assert type(embed) is torch.Tensor and embed.shape[0] > 2  # whole, not a shard


def test_several_devices_without_torchrun_are_refused():
    with pytest.raises(ValueError, match="torchrun --nproc-per-node=2"):
        trainer_kwargs({"accelerator": "cpu", "devices": 2, "strategy": "ddp"})


def test_unknown_strategy_names_the_known_ones():
    with pytest.raises(ValueError, match="known: auto, ddp, fsdp"):
        trainer_kwargs({"strategy": "deepspeed"})


def test_devices_auto_follow_torchrun(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    kwargs = trainer_kwargs(
        {"accelerator": "cpu", "devices": "auto", "num_nodes": "auto", "strategy": "auto"}
    )
    assert kwargs["devices"] == 2 and kwargs["num_nodes"] == 2


def test_torchrun_needs_an_output_dir(monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cli_main(["fit", "trainer=ddp"]) == 2
    assert "output_dir=<dir>" in capsys.readouterr().err


def test_two_nodes_meet_through_c10d_rendezvous(tmp_path):
    # The README's multi-node recipe, with both "nodes" on this machine: one torchrun each.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = tmp_path / "run"

    def node(rank: int) -> subprocess.Popen:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2"]
        rendezvous = ["--rdzv-id=test", "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{port}"]
        fit = ["-m", "creditzoo", "fit", "trainer=ddp", "max_steps=1", f"output_dir={run}"]
        return subprocess.Popen(
            [*launcher, "--nproc-per-node=1", f"--node-rank={rank}", *rendezvous, *fit, *SMALL],
            cwd=tmp_path,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    nodes = [node(0), node(1)]
    for node in nodes:
        out, _ = node.communicate(timeout=600)
        assert node.returncode == 0, out[-3000:]
    assert json.loads((run / "results.json").read_text())["steps"] == 1


def test_two_ranks_draw_the_global_batches_of_one_process(tmp_path):
    """A finite dataset in seeded epochs: each rank takes a contiguous slice of whole problems
    of the very batch one process draws, epoch boundary included."""
    _run([sys.executable, str(PROMPTS_WORKER), str(tmp_path / "one")], tmp_path)
    _run([*TORCHRUN, str(PROMPTS_WORKER), str(tmp_path / "two"), "trainer=ddp"], tmp_path)
    one = json.loads((tmp_path / "one" / "prompts_rank0.json").read_text())
    ranks = [json.loads((tmp_path / "two" / f"prompts_rank{r}.json").read_text()) for r in (0, 1)]
    assert sorted(one) == sorted(ranks[0]) == sorted(ranks[1]) == ["0", "1", "2"]
    for step, problems in one.items():
        assert len(problems) == 4 and ranks[0][step] + ranks[1][step] == problems
