"""benchmarks/gpu_check.sh --dry-run: the GPU check's own code path on CPU, so it cannot rot.

The dry run composes the same `creditzoo fit` configs (trainer=cpu instead of gpu), builds the
same Qwen2 family at tiny size and races the static engine against `generate` as on the GPU; here
the JSON it writes is checked for its schema and for finite numbers. No timings are asserted.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
WHEELS = ROOT / "benchmarks" / "gpu_wheels"


def _finite(x: object) -> bool:
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if isinstance(x, list):
        return all(_finite(v) for v in x)
    if isinstance(x, float):
        return math.isfinite(x)
    return True


def test_dry_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--dry-run", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a speed check
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    report = json.loads(out.read_text())
    assert report["schema"] == 1 and report["dry_run"] is True
    assert report["errors"] == {} and report["ok"] is True
    assert set(report["fits"]) == {"grpo", "rlsd"}
    for algorithm, fit in report["fits"].items():
        assert fit["command"].startswith(f"creditzoo fit algorithm={algorithm} trainer=")
        assert fit["steps"] == report["sizes"]["fit_steps"]
        assert len(fit["loss"]) == fit["steps"] and fit["loss_finite"] is True
        assert fit["learning_signal"] is True and fit["weight_motion_l2"] > 0
        assert 0.0 <= fit["acc_after"] <= 1.0
    assert set(report["rollout"]) == {"bfloat16", "float32"}
    for rollout in report["rollout"].values():
        assert rollout["params"] > 0
        for rows, race in rollout["by_rows"].items():
            assert race["rows"] == int(rows) and race["new_tokens"] == report["sizes"]["new_tokens"]
            for side in ("static", "generate"):
                assert race["tokens_per_s"][side]["median"] > 0
            ratio = race["static_vs_generate"]
            assert len(ratio["per_round"]) == report["sizes"]["repeats"]
            assert ratio["min"] <= ratio["median"] <= ratio["max"]
    assert report["peak_mem_mib"] > 0 and report["wall_time_s"] > 0
    assert _finite(report)


def test_vendored_wheels_are_pure_python_small_and_satisfy_pyproject() -> None:
    """The wheels travel to a machine with another Python and no network: pure Python only,
    one version per distribution, well under the 64 MiB a remote working tree may hold."""
    wheels = sorted(WHEELS.glob("*.whl"))
    names = {w.name.split("-")[0].lower().replace("_", "-"): w for w in wheels}
    assert len(names) == len(wheels)
    assert {"hydra-core", "omegaconf", "antlr4-python3-runtime", "math-verify"} <= set(names)
    assert sum(w.stat().st_size for w in wheels) < 8 * 2**20
    assert all(w.name.endswith("-py3-none-any.whl") for w in wheels)
    required = {  # creditzoo's own requirements, as installed (extras left out)
        r.name.lower(): r.specifier
        for r in map(Requirement, importlib.metadata.requires("creditzoo") or [])
        if r.marker is None
    }
    assert "hydra-core" in required
    for name, wheel in names.items():
        with zipfile.ZipFile(wheel) as z:  # the wheel's own metadata, not its file name
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            version = next(
                line.split(":", 1)[1].strip()
                for line in z.read(meta).decode().splitlines()
                if line.startswith("Version:")
            )
        if name in required:
            assert required[name].contains(version), (name, version, required[name])
