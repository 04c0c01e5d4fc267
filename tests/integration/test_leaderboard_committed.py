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
