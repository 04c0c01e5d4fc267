"""The committed credit audits (leaderboard/credit/) are what `creditzoo audit from=` makes of
their dumps, cover every built-in algorithm, and hold the audit's two anchors."""

import json
from pathlib import Path

import pytest

from creditzoo.cli import main

ROOT = Path(__file__).resolve().parents[2]
AUDITS = sorted(p.parent for p in (ROOT / "leaderboard" / "credit").glob("*/audit.json"))
BUILT_IN = {
    "cepo", "craft", "egrsd", "grpo", "opsd", "opsd-rlcsd", "opsd-sampled", "oracle", "rlcsd",
    "rlrt", "rlsd", "sdpg", "sdpo", "sdpo-rlcsd", "srpo",
}  # fmt: skip


def test_both_audits_are_committed():
    assert {p.name for p in AUDITS} == {"warmstart", "grpo-step75"}


@pytest.mark.parametrize("audit", AUDITS, ids=lambda p: p.name)
def test_committed_audit_regenerates_byte_identically(audit: Path, tmp_path: Path):
    record = json.loads((audit / "audit.json").read_text())
    assert set(record["settings"]["algorithms"]) >= BUILT_IN
    assert record["settings"]["n_problems"] == 512 and record["settings"]["group_size"] == 8
    credit = record["metrics"]["credit"]
    assert credit["grpo"]["auroc"]["mean"] == 0.5 and credit["oracle"]["auroc"]["mean"] == 1.0
    assert main(["audit", f"from={audit}", f"out={tmp_path}"]) == 0  # also checks the metrics
    for name in ("README.md", "blame_by_offset.png", "examples.html"):
        assert (tmp_path / name).read_bytes() == (audit / name).read_bytes(), name
    assert (audit / "examples.png").is_file()  # the page as a headless browser renders it
