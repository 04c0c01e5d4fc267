"""`creditzoo audit` end to end on the shipped model: real sampling, verifier and credit."""

import gzip
import json

import pytest

from creditzoo.cli import main

ALGOS = "grpo,oracle,rlsd"


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit")
    args = [f"algorithms={ALGOS}", "n_problems=8", "realised_problems=4", f"out={out}"]
    assert main(["audit", *args]) == 0
    return out


def test_grpo_is_exactly_chance_and_the_oracle_perfect(audit):
    record = json.loads((audit / "audit.json").read_text())
    credit = record["metrics"]["credit"]
    assert record["metrics"]["scored"] >= 5
    assert credit["grpo"]["auroc"]["mean"] == 0.5
    assert credit["grpo"]["auroc"]["low"] == credit["grpo"]["auroc"]["high"] == 0.5
    assert credit["oracle"]["auroc"]["mean"] == 1.0 and credit["oracle"]["neg_prefix"]["mean"] == 0
    for name in ("grpo", "oracle", "rlsd"):
        assert credit[name]["neg_on_correct"]["mean"] == 0.0  # sign-preserving methods
        assert f"{name}:prefix" in credit and f"{name}:realised" in credit
    # the realised change covers the first 4 problems' responses only
    assert credit["grpo:realised"]["coverage"]["n"] < credit["grpo"]["coverage"]["n"]
    for control in record["settings"]["controls"]:
        assert credit[control]["auroc"] is not None
    assert credit["control:position"]["auroc"]["mean"] == 1.0  # the error comes after the prefix


def test_dump_has_every_field_and_regenerates_byte_identically(audit, tmp_path):
    with gzip.open(audit / "tokens.jsonl.gz", "rt") as fh:
        lines = [json.loads(x) for x in fh]
    assert len(lines) == 8 * 8
    row = lines[0]
    for key in (
        "uid",
        "group",
        "problem",
        "reference",
        "reward",
        "text",
        "tokens",
        "offsets",
        "labels",
        "category",
        "credit",
    ):
        assert key in row
    for i, r in enumerate(lines):
        assert "".join(r["tokens"]) == r["text"]
        assert ("grpo:realised" in r["credit"]) == (i < 4 * 8)
        n = len(r["tokens"])
        assert len(r["labels"]) == n and all(len(c) == n for c in r["credit"].values())
    assert main(["audit", f"from={audit}", f"out={tmp_path}"]) == 0
    for name in ("README.md", "blame_by_offset.png", "examples.html"):
        assert (tmp_path / name).read_bytes() == (audit / name).read_bytes(), name
    page = (audit / "examples.html").read_text()
    assert "class='err'" in page and "http" not in page  # self-contained


def test_bad_input_is_one_clear_error(tmp_path, capsys):
    assert main(["audit", "algorithms=grpo,nope", f"out={tmp_path}"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["audit", "algorithms=grpo", "data=gsm8k", f"out={tmp_path}"]) == 2
    assert "step" in capsys.readouterr().err
    assert main(["audit", f"from={tmp_path}"]) == 2
    assert "audit.json" in capsys.readouterr().err
    assert main(["audit", "algorithms=grpo"]) == 2
    assert "out=" in capsys.readouterr().err


def test_a_plugin_algorithm_is_audited_like_a_built_in(tmp_path):
    """Any registered algorithm can be audited: here one defined in this test, which blames only
    the last token of each response (so its AUROC is 0.5 where the last token is in the suffix)."""
    from dataclasses import dataclass

    from creditzoo.algorithms import ALGORITHMS, Algorithm, register
    from creditzoo.algorithms.ops import broadcast_to_tokens, group_baseline_advantage
    from creditzoo.types import Credit

    @register("test-last-token")
    @dataclass
    class LastToken(Algorithm):
        def compute(self, batch):
            adv = group_baseline_advantage(batch.rewards, batch.group_ids, "group", 1e-6)
            last = batch.response_mask.long().cumsum(1) == batch.response_mask.sum(1, keepdim=True)
            return Credit(advantages=broadcast_to_tokens(adv, batch.response_mask) * last)

    try:
        args = ["algorithms=grpo,test-last-token", "n_problems=4", f"out={tmp_path}"]
        assert main(["audit", *args]) == 0
    finally:
        ALGORITHMS.unregister("test-last-token")
    credit = json.loads((tmp_path / "audit.json").read_text())["metrics"]["credit"]
    # blame only on the final token (EOS, in the suffix): every prefix and error token ties at 0
    assert credit["test-last-token"]["auroc"]["mean"] == 0.5
    assert credit["test-last-token"]["top1"]["mean"] == 0.0
