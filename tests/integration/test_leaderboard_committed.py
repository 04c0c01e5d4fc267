"""The committed leaderboard is exactly what `creditzoo leaderboard` makes from its runs."""

from pathlib import Path

from creditzoo.leaderboard import build

ROOT = Path(__file__).resolve().parents[2]


def test_committed_leaderboard_regenerates_byte_identical(tmp_path: Path) -> None:
    results = ROOT / "leaderboard" / "results"
    assert sorted(results.rglob("results.json")), "leaderboard/results holds no runs"
    build(results, tmp_path)
    for rel in (
        "README.md",
        "plots/heldout_vs_step.png",
        "plots/reward_vs_step.png",
        "plots/final_accuracy.png",
    ):
        assert (tmp_path / rel).read_bytes() == (ROOT / "leaderboard" / rel).read_bytes(), rel


def test_committed_teachers_read_their_contexts() -> None:
    """Issue 15: every committed run of a self-distilling method records its teacher check, and
    the default contexts of opsd, rlsd, cepo and rlcsd separate correct from wrong responses
    (AUROC ≥ 0.7 for the positive context and for the contrast against the wrong-answer ones)."""
    import json

    from creditzoo.providers.teacher_check import MAX_AUROC_SE, MAX_TRIES, auroc_se

    runs = sorted((ROOT / "leaderboard" / "results").rglob("results.json"))
    checked = set()
    for path in runs:
        result = json.loads(path.read_text())
        check = result.get("teacher_check")
        if result["algorithm"] in {"grpo"}:
            assert check is None, path
            continue
        assert check is not None and check["ok"], (path, check)
        # Made under today's pooling rule: stopped once precise, or after the last try.
        pos = check["positive"]
        se = auroc_se(pos["auroc"], pos["n_correct"], pos["n_wrong"])
        assert se <= MAX_AUROC_SE or check["batches"] == MAX_TRIES, (path, se)
        if result["algorithm"] in {"opsd", "rlsd", "cepo", "rlcsd"}:
            for signal in ("positive", "contrast"):
                if signal in check:
                    assert check[signal]["auroc"] >= 0.7, (path, signal, check[signal])
            checked.add(result["algorithm"])
    assert checked == {"opsd", "rlsd", "cepo", "rlcsd"}
