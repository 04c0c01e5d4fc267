"""Issue 18: the teachers of sdpo, sdpo-rlcsd, srpo and sdpg read their default contexts on the
embedded default (tiny model, arith), as the committed leaderboard shows for opsd, rlsd, cepo.

Each run's teacher check (``creditzoo.providers.teacher_check``) pools the first batches until it
is precise; the bar is the leaderboard's for opsd/rlsd/cepo: AUROC ≥ 0.7 of the per-response mean
Δ = teacher − student log-prob, separating correct from wrong responses. Measured 2026-12-03 on
the first batches of 64 rollouts: sdpo (first correct sibling) 1.00, srpo (solution) 0.99, sdpg
(answer) 0.96.
"""

from pathlib import Path

import pytest

from creditzoo.fit import run_fit
from creditzoo.providers.teacher_check import MAX_AUROC_SE, auroc_se
from creditzoo.testing import fit_config


@pytest.mark.parametrize("name", ["sdpo", "sdpo-rlcsd", "srpo", "sdpg"])
def test_default_teacher_separates_correct_from_wrong(tmp_path: Path, name: str) -> None:
    results = run_fit(
        fit_config(
            [
                f"algorithm={name}",
                "max_steps=3",
                "prompts_per_step=8",
                "group_size=8",
                "eval.n=2",
                "eval.k=1",
                "eval.splits=[id]",
                "eval_every=0",
                "checkpoint_every=100",
                "teacher.check=strict",
            ]
        ),
        tmp_path,
    )
    check = results["teacher_check"]
    assert check is not None and check["ok"], check
    positive = check["positive"]
    assert positive["auroc"] >= 0.7, check
    assert auroc_se(positive["auroc"], positive["n_correct"], positive["n_wrong"]) <= MAX_AUROC_SE
