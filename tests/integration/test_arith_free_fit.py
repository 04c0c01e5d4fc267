"""The free-order task trains end to end with its own warm start and the process oracle."""

import json

from creditzoo.cli import main


def test_oracle_trains_on_arith_free(tmp_path):
    args = ["model=tiny-free", "data=arith-free", "algorithm=oracle", "max_steps=2"]
    args += ["eval.n=4", "eval.k=1", f"output_dir={tmp_path}"]
    assert main(["fit", *args]) == 0
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["data"] == "arith-free" and result["steps"] == 2
    assert result["model"]["name"] == "tiny-free"
