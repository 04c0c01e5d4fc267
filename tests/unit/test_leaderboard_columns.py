"""Issue 21's leaderboard columns on synthetic runs written here: curve AUC, hard problems,
the floor rule, named variants, the credit audit (present and absent), byte-identical output."""

import json
from pathlib import Path

import pytest

from creditzoo.leaderboard import build, main
from creditzoo.leaderboard.runs import accuracy_on_ops, curve_auc, row_name

STEPS = [0, 25, 50, 75, 100, 125, 150]


def _record(algo: str, seed: int, final_id: float, *, variant: str | None = None) -> dict:
    # Curve: linear from 0.20 to final_id over 150 steps (on the subset), ops from final_id.
    curve = [[s, 0.2 + (final_id - 0.2) * s / 150] for s in STEPS]
    final = {
        "id": {
            "acc": final_id,
            "acc_ops1": 0.9, "n_ops1": 100.0, "acc_ops2": 0.5, "n_ops2": 100.0,
            "acc_ops3": final_id, "n_ops3": 100.0, "acc_ops4": final_id / 2, "n_ops4": 100.0,
        },
        "ood": {"acc": 0.01, "acc_ops5": 0.01, "n_ops5": 500.0},
    }  # fmt: skip
    return {
        "algorithm": algo,
        "variant": variant,
        "algorithm_params": {"name": algo},
        "seed": seed,
        "steps": 150,
        "model": {"name": "tiny"},
        "data": "arith",
        "train_time_s": 10.0,
        "tokens_generated": 1000,
        "initial": {"id": {"acc": 0.2}, "ood": {"acc": 0.007}},
        "final": final,
        "eval_settings": {"n": 500, "k": 4, "temperature": 1.0, "curve_n": 100, "curve_k": 2},
        "versions": {"torch": "x"},
        "machine": {"cpus": 2},
        "finished_at": f"2026-12-0{1 + seed} 00:00 UTC",
        "curves": {
            "reward/mean": [[s, 0.2] for s in range(150)],
            "curve/id/acc": curve,
            "curve/ood/acc": [[s, 0.01] for s in STEPS],
            "val/id/acc": [[0, 0.2], [150, final_id]],
        },
    }


def _write(runs: Path) -> None:
    for seed in range(5):
        rows = {
            ("grpo", None): 0.30 + 0.01 * seed,
            ("oracle", None): 0.34 + 0.01 * seed + (0.005 if seed % 2 else 0.0),
            ("rlsd", "rlsd-const"): 0.30 + 0.01 * seed + (0.004 if seed % 2 else -0.004),
        }
        for (algo, variant), acc in rows.items():
            path = runs / f"{variant or algo}_s{seed}" / "results.json"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(_record(algo, seed, acc, variant=variant)))


def _audit(path: Path) -> Path:
    def entry(m: float) -> dict:
        return {"mean": m, "low": m - 0.01, "high": m + 0.01, "n": 100}

    credit = {
        "grpo": {"auroc": entry(0.5), "top1": entry(0.1)},
        "oracle": {"auroc": entry(1.0), "top1": entry(0.9)},
        "rlsd": {"auroc": entry(0.7), "top1": None},
    }
    path.mkdir(parents=True)
    record = {"settings": {"checkpoint_step": None}, "metrics": {"credit": credit}}
    (path / "audit.json").write_text(json.dumps(record))
    return path / "audit.json"


def test_curve_auc_and_hard_accuracy_hand_computed() -> None:
    # Points (0, 0.2), (25, 0.3), (50, 0.3), (150, 0.4): area 25·0.25 + 25·0.3 + 100·0.35
    # = 6.25 + 7.5 + 35 = 48.75, over the range 150 → 0.325.
    run = {"curves": {"curve/id/acc": [[0, 0.2], [25, 0.3], [50, 0.3], [150, 0.4]]}}
    assert curve_auc(run, "id") == pytest.approx(0.325)
    # Two points (the committed runs: before and after only) are no curve.
    assert curve_auc({"curves": {"val/id/acc": [[0, 0.2], [150, 0.3]]}}, "id") is None
    # 3–4 operators: (0.5·10 + 0.2·30) / 40 = 11/40 = 0.275; nothing recorded → None.
    final = {"id": {"acc_ops3": 0.5, "n_ops3": 10.0, "acc_ops4": 0.2, "n_ops4": 30.0}}
    assert accuracy_on_ops({"final": final}, "id") == pytest.approx(0.275)
    assert accuracy_on_ops({"final": {"id": {"acc": 0.3}}}, "id") is None
    assert row_name({"algorithm": "rlsd", "variant": "rlsd-const"}) == "rlsd-const"
    assert row_name({"algorithm": "rlsd"}) == "rlsd"


def test_columns_variants_floor_and_audit(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _write(runs)
    audit = _audit(tmp_path / "lb" / "credit" / "warmstart")
    first, second = tmp_path / "a", tmp_path / "b"
    build(runs, first, audit=audit)
    build(runs, second, audit=audit)
    files = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert "plots/gain_vs_credit.png" in files
    for f in files:
        assert (first / f).read_bytes() == (second / f).read_bytes(), f
    text = (first / "README.md").read_text()
    headline = text.split("## Headline")[1].split("## Paired")[0]
    # ood sits at 0.01 for every row: out of the headline, said so, kept in the full table.
    assert "Split(s) ood at the floor for every row" in headline
    assert "ood final" not in headline and "| ood final |" in text.split("## Full table")[1]
    head = next(line for line in headline.splitlines() if line.startswith("| algorithm"))
    assert head == (
        "| algorithm | n | id final | Δ id final vs grpo | id 3–4 ops | Δ id 3–4 ops vs grpo | "
        "id curve AUC | Δ id AUC vs grpo | first-error AUROC | top-1 localisation |"
    )
    rows = {line.split(" | ")[0][3:-1]: line for line in headline.splitlines() if "| `" in line}
    assert list(rows) == ["oracle", "grpo", "rlsd-const"]  # ranked by id final (−0.0008)
    # oracle − grpo per seed: 0.04, 0.045, 0.04, 0.045, 0.04 → mean 0.042, sd 0.0027386,
    # se 0.0012247, CI 2.776445·0.0012247 = 0.0034; p ≪ 0.05 → bold. AUROC 1.0, top-1 0.9.
    # Its id final 0.34, 0.355, 0.36, 0.375, 0.38: mean 0.362, sd √(0.00103/4) = 0.016047,
    # CI 2.776445·0.016047/√5 = 0.0199.
    assert rows["oracle"].startswith("| `oracle` | 5 | 0.362 ± 0.020 | **+0.042 ± 0.003** |")
    assert rows["oracle"].endswith("| 1.000 | 0.900 |")
    # rlsd-const − grpo: −0.004, +0.004, … → mean −0.0008, p = 0.70: not significant; its
    # credit is rlsd's (AUROC 0.7; top-1 not recorded → "–").
    assert "| -0.001 ± 0.005 |" in rows["rlsd-const"]
    assert rows["rlsd-const"].endswith("| 0.700 | – |")
    # grpo: id final 0.30…0.34 (sd 0.015811, CI 2.776445·0.015811/√5 = 0.0196). Hard =
    # (final·100 + final/2·100)/200 = 0.75·final: mean 0.24, CI 0.75·0.0196 = 0.0147. Its curve
    # is linear 0.2 → final, so AUC = (0.2 + final)/2: mean 0.26, CI 0.0196/2 = 0.0098.
    assert rows["grpo"] == (
        "| `grpo` | 5 | 0.320 ± 0.020 | (reference) | 0.240 ± 0.015 | (reference) | "
        "0.260 ± 0.010 | (reference) | 0.500 | 0.100 |"
    )
    assert "Not significant: `rlsd-const`" in headline
    assert "significantly different from `grpo` (paired, p < 0.05, bold): `oracle` (+0.042" in (
        headline
    )
    assert "`credit/warmstart/audit.json` (sampled from the warm start" in text
    assert "![accuracy gain vs credit quality](plots/gain_vs_credit.png)" in text


def test_without_audit_no_credit_columns(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _write(runs)
    out = tmp_path / "out"
    assert main([f"runs={runs}", f"out={out}"]) == 0  # default audit (out/credit/…) absent
    text = (out / "README.md").read_text()
    assert "AUROC" not in text and "gain_vs_credit" not in text
    assert not (out / "plots" / "gain_vs_credit.png").exists()
    # Another reference row, given by name.
    build(runs, tmp_path / "ref", reference="oracle")
    assert "## Paired differences from `oracle`" in (tmp_path / "ref" / "README.md").read_text()


def test_missing_reference_and_old_runs_degrade(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    record = _record("rlsd", 0, 0.3)
    del record["final"]["id"]["acc_ops3"], record["final"]["id"]["acc_ops4"]
    record["curves"] = {"val/id/acc": [[0, 0.2], [150, 0.3]]}  # before/after only
    other = _record("cepo", 0, 0.32)
    for name, r in (("rlsd_s0", record), ("cepo_s0", other)):
        (runs / name).mkdir(parents=True)
        (runs / name / "results.json").write_text(json.dumps(r))
    text = build(runs, tmp_path / "out").read_text()
    assert "No `grpo` runs: no paired differences" in text
    assert "## Paired differences" not in text
    rlsd = next(line for line in text.splitlines() if line.startswith("| `rlsd`"))
    assert rlsd == "| `rlsd` | 1 | 0.300 | – | – |"  # id final, 3–4 ops, AUC
