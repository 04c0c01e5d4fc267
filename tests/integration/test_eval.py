"""`creditzoo eval` end to end, offline: built-in, packaged and local-file benchmarks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from creditzoo.tasks import TaskOptions, get_task, load_split

FIXTURES = Path(__file__).parent.parent / "fixtures"


def load_problems(name: str, split: str, path: str | None = None) -> list:
    return load_split(get_task(name, TaskOptions(path=path, key="benchmark")), split).problems


def _eval(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "creditzoo", "eval", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_eval_arith_records_settings_and_items(tmp_path: Path) -> None:
    out = tmp_path / "arith.json"
    proc = _eval("benchmark=arith", "limit=6", "k=3", f"output_dir={tmp_path}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(out.read_text())
    assert set(record["splits"]) == {"id", "ood"}
    m = record["splits"]["id"]["metrics"]
    assert m["n"] == 6 and m["k"] == 3 and {"acc", "acc_se", "pass@3", "maj@3"} <= set(m)
    assert len(record["splits"]["id"]["items"]) == 6
    assert len(record["splits"]["id"]["items"][0]["correct"]) == 3
    assert record["sampling"]["temperature"] == 1.0 and record["prompt_template"] == "{problem}"
    assert record["verifier"]["name"] == "math-verify" and record["verifier"]["version"]
    assert len(record["splits"]["id"]["data_hash"]) == 64
    assert record["source"]["model"]["name"] == "tiny"


def test_eval_champ_offline(tmp_path: Path) -> None:
    out = tmp_path / "champ.json"
    proc = _eval(
        "benchmark=champ",
        "limit=3",
        "k=1",
        "max_new_tokens=16",
        f"output_dir={tmp_path}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(out.read_text())
    assert record["splits"]["test"]["metrics"]["n"] == 3
    assert "\\boxed{{}}" in record["prompt_template"]  # a str.format template


def test_champ_has_270_problems_with_answers() -> None:
    problems = load_problems("champ", "test")
    assert len(problems) == 270 and all(p.answer for p in problems)


def test_local_file_benchmark_and_gsm8k_answer_parsing() -> None:
    problems = load_problems("gsm8k", "test", path=str(FIXTURES / "gsm8k_tiny.jsonl"))
    assert [p.answer for p in problems] == ["5", "12", "2"]


def test_offline_hub_benchmark_says_which_file_to_provide() -> None:
    with pytest.raises(FileNotFoundError, match=r"benchmark\.path=.*'question'"):
        load_problems("gsm8k", "test")


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['problem', 'answer'\]"):
        load_problems("math500", "test", path=str(FIXTURES / "bad_columns.jsonl"))


def test_eval_a_checkpoint(tmp_path: Path) -> None:
    from test_fit_tiny import SMALL

    from creditzoo.fit import run_fit
    from creditzoo.testing import fit_config

    run = tmp_path / "run"
    run_fit(fit_config([*SMALL, "max_steps=1", "eval.n=2", "eval.k=1"]), run)
    proc = _eval(
        f"ckpt={run}", "benchmark=arith", "benchmark.splits=[id]", "limit=4", "k=1", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((run / "eval" / "arith.json").read_text())
    # Read from the safetensors policy file, never from the pickled Lightning checkpoint.
    assert record["source"]["checkpoint"] == str(run / "checkpoints" / "policy.safetensors")
    assert record["source"]["step"] == 1
    assert len(record["source"]["checkpoint_sha256"]) == 64
