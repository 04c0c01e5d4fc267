"""Training and evaluating on the user's own files, offline, end to end: `fit data=hf …` on JSONL
and parquet with odd column names and GSM8K-style answers, `eval benchmark=hf …`, the skip and
contamination counts in results.json, and exact resume across an epoch boundary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from creditzoo.fit import run_fit
from creditzoo.testing import fit_config

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}

# Ten problems in the tiny model's own format, under odd column names, answers after "####";
# two more rows have no reference answer.
ROWS = [
    {
        "Frage Text": f"Compute {i}+{i + 2}.",
        "Lösung (GSM)": f"{i}+{i + 2}={2 * i + 2}.\n#### {2 * i + 2}",
    }
    for i in range(1, 11)
]
ROWS[4:4] = [{"Frage Text": "Compute 1+1.", "Lösung (GSM)": None}]
ROWS[8:8] = [{"Frage Text": "Compute 2+2.", "Lösung (GSM)": ""}]
HF = [
    "data=hf",
    "data.question='Frage Text'",  # Hydra overrides quote values with spaces or parentheses
    "data.answer='Lösung (GSM)'",
    "data.answer_format=gsm8k",
    "data.prompt_template=bare",
]
SMALL = [
    "prompts_per_step=4",
    "group_size=4",
    "max_new_tokens=24",
    "eval.k=1",
    "eval.n=50",
    "eval_every=0",
    "log_samples_every=0",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("data")
    jsonl = root / "train.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS))
    parquet = root / "train.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)
    return {"jsonl": jsonl, "parquet": parquet}


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_fit_two_steps_on_a_file_counts_skips_and_overlap(files, kind: str, tmp_path: Path):
    cfg = fit_config(
        [*HF, f"data.path={files[kind]}", *SMALL, "max_steps=2", "eval.splits=[train]"]
    )
    results = run_fit(cfg, tmp_path)
    assert results["steps"] == 2 and results["data"] == "hf"
    report = json.loads((tmp_path / "results.json").read_text())["data_report"]
    assert report["problems"] == 10 and report["skipped_no_answer"] == 2
    # Evaluating on the training file itself: every evaluated problem is a training problem.
    assert report["overlap"] == {"train": 10} and report["overlap_train_problems"] == 10
    assert report["eval_skipped_no_answer"] == {"train": 2} and report["excluded"] == 0
    assert results["final"]["train"]["n"] == 10


def test_exclude_eval_and_another_task_as_benchmark(files, tmp_path: Path):
    shared = [{"q": r["Frage Text"].lower(), "a": "0"} for r in ROWS[:3]]  # case differs
    bench = tmp_path / "eval.jsonl"
    bench.write_text("".join(json.dumps(r) + "\n" for r in [*shared, {"q": "new", "a": "1"}]))
    cfg = fit_config(
        [
            *HF,
            f"data.path={files['parquet']}",
            "data.exclude_eval=true",
            *SMALL,
            "max_steps=1",
            f"eval.benchmark={{name:hf,path:'{bench}',question:q,answer:a}}",
        ]
    )
    results = run_fit(cfg, tmp_path / "run")
    report = results["data_report"]
    assert report["overlap"] == {"train": 3} and report["excluded"] == 3
    assert report["problems"] == 7 and set(results["final"]) == {"train"}
    assert results["final"]["train"]["n"] == 4


class RecordPrompts(L.Callback):
    """The problems of every training step, as Lightning hands them to the module."""

    def __init__(self) -> None:
        self.steps: dict[int, list[str]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        step, problems = batch
        self.steps[step] = [p.uid for p in problems]


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]


def test_stop_at_3_and_continue_to_6_across_an_epoch_boundary(files, tmp_path: Path):
    """4 prompts a step over 10 problems: steps 3–5 read positions 12–23, crossing into the
    third epoch at position 20. The resumed run equals the uninterrupted one bit for bit."""
    base = [*HF, f"data.path={files['jsonl']}", *SMALL, "eval.n=2", "checkpoint_every=3"]
    straight, seen = tmp_path / "straight", RecordPrompts()
    run_fit(fit_config([*base, "max_steps=6"]), straight, callbacks=[seen])
    resumed, first, second = tmp_path / "resumed", RecordPrompts(), RecordPrompts()
    run_fit(fit_config([*base, "max_steps=3"]), resumed, callbacks=[first])
    run_fit(fit_config([*base, "max_steps=6"]), resumed, callbacks=[second])
    assert sorted(first.steps) == [0, 1, 2] and sorted(second.steps) == [3, 4, 5]
    assert {**first.steps, **second.steps} == seen.steps
    every = [uid for step in range(5) for uid in seen.steps[step]]
    assert len(set(every[:10])) == len(set(every[10:20])) == 10  # whole epochs, reshuffled
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "weights differ"


def test_eval_benchmark_hf_on_parquet(files, tmp_path: Path):
    proc = subprocess.run(
        [
            sys.executable, "-m", "creditzoo", "eval", "benchmark=hf",
            f"benchmark.path={files['parquet']}", "benchmark.question='Frage Text'",
            "benchmark.answer='Lösung (GSM)'", "benchmark.answer_format=gsm8k",
            "benchmark.prompt_template=bare", "k=1", "limit=5", "max_new_tokens=16",
            f"output_dir={tmp_path}",
        ],
        cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "hf.json").read_text())
    split = record["splits"]["train"]
    assert split["metrics"]["n"] == 5 and split["skipped_no_answer"] == 2
    assert [it["answer"] for it in split["items"]] == ["4", "6", "8", "10", "12"]
    assert record["prompt_template"] == "{problem}"


def test_offline_named_task_says_which_file_and_columns(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "creditzoo", "fit", "data=gsm8k", f"output_dir={tmp_path}"],
        cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "creditzoo fit: data=gsm8k could not be loaded from the hub (openai/gsm8k, split train): "
        "ConnectionError. Offline, download it elsewhere and pass data.path=<file.jsonl, .json, "
        ".parquet or .csv> with columns 'question' (question) and 'answer' (answer)."
    )
