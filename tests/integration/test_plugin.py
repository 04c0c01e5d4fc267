"""The third-party plugin path, for real: examples/plugin is built and installed with pip into a
temporary directory (never into the shared venv), then found through its entry point by fresh
``python -m creditzoo`` processes — in ``list``, in ``fit`` and in the contract suite.

Two broken plugins (entry-point name ≠ @register name; a name that is already taken) are written
as hand-made ``.dist-info`` directories, which is all ``importlib.metadata`` reads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from creditzoo.algorithms.base import ENTRY_POINT_GROUP

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugin"

# A one-step fit on the embedded default (tiny model, arithmetic), as in test_fit_tiny.py.
TINY_FIT = [
    "max_steps=1",
    "prompts_per_step=2",
    "group_size=4",
    "eval.n=2",
    "eval.k=1",
    "eval.splits=[id]",
    "max_new_tokens=48",
]


def _env(*site: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [*map(str, site), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


def _python(*args: str, site: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_env(*site),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plugin")


@pytest.fixture(scope="module")
def plugin_site(work: Path) -> Path:
    """examples/plugin installed by pip into ``<work>/site``: real wheel metadata, offline.

    The source is copied first so that the build's ``build/`` and ``*.egg-info`` stay out of the
    checkout; ``--no-build-isolation`` uses the venv's setuptools, so no index is needed.
    """
    src = work / "src"
    shutil.copytree(
        EXAMPLE,
        src,
        ignore=shutil.ignore_patterns(
            "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"
        ),
    )
    site = work / "site"
    proc = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir",
            "--target", str(site), str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (site / "creditzoo_plugin_example" / "clipped_grpo.py").exists()
    return site


def _fake_plugin(root: Path, dist: str, ep_name: str, module: str, source: str) -> Path:
    """A minimal installed distribution: one module and a dist-info with one entry point."""
    site = root / dist
    site.mkdir(parents=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist}-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{ep_name} = {module}\n")
    return site


def test_list_shows_the_plugin(plugin_site: Path, work: Path) -> None:
    proc = _python("-m", "creditzoo", "list", site=[plugin_site], cwd=work)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    params = lines[lines.index("  clipped_grpo") + 4]
    assert params.startswith("      parameters: ")
    assert "max_abs=1.0" in params and "scale_rewards='group'" in params


def test_fit_with_the_plugin(plugin_site: Path, work: Path) -> None:
    run = work / "run"
    proc = _python(
        "-m", "creditzoo", "fit", "algorithm=clipped_grpo", "algorithm.max_abs=0.5",
        *TINY_FIT, f"output_dir={run}",
        site=[plugin_site], cwd=work,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    assert results["algorithm"] == "clipped_grpo" and results["steps"] == 1
    assert results["algorithm_params"]["max_abs"] == 0.5
    # The plugin's own metric reached the logs: its compute() ran inside the training loop.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    assert "algo/clip_frac" in acc.Tags()["scalars"]


def test_list_shows_the_plugin_task_with_its_splits(plugin_site: Path, work: Path) -> None:
    proc = _python("-m", "creditzoo", "list", site=[plugin_site], cwd=work)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("  doubles "))
    assert "Compute n+n" in lines[row]
    assert lines[row + 1].startswith("      splits:     train: train; eval: test")


def test_fit_and_eval_on_the_plugin_task(plugin_site: Path, work: Path) -> None:
    run = work / "run_doubles"
    proc = _python(
        "-m", "creditzoo", "fit", "data=doubles", *TINY_FIT, "eval.splits=[test]",
        f"output_dir={run}",
        site=[plugin_site], cwd=work,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    assert results["data"] == "doubles" and results["steps"] == 1
    assert results["data_report"]["problems"] == 40
    assert results["data_report"]["overlap"] == {"test": 0}
    assert set(results["final"]) == {"test"}
    proc = _python(
        "-m", "creditzoo", "eval", "benchmark=doubles", "limit=2", "k=1", f"output_dir={work}",
        site=[plugin_site], cwd=work,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((work / "doubles.json").read_text())
    assert [it["uid"] for it in record["splits"]["test"]["items"]] == [
        "doubles-test-101",
        "doubles-test-102",
    ]


def test_plugin_brings_its_own_teacher_context(plugin_site: Path, work: Path) -> None:
    """A context and an algorithm that uses it, both from the plugin: no creditzoo edit."""
    run = work / "run_hinted"
    proc = _python(
        "-m", "creditzoo", "fit", "algorithm=hinted_rlsd", *TINY_FIT, f"output_dir={run}",
        site=[plugin_site], cwd=work,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())
    assert results["teacher"] == {"context": "final_step", "weights": "snapshot"}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    assert "algo/delta_abs_mean" in acc.Tags()["scalars"]  # the teacher pass fed the credit
    snippet = textwrap.dedent(
        """
        from creditzoo.algorithms import list_algorithms
        from creditzoo.data.arith import test_split
        from creditzoo.providers.contexts import CONTEXTS, DEFAULT_TEMPLATES, GroupOutcome
        list_algorithms()  # loads the plugins
        p = test_split("id", 1)[0]
        print(CONTEXTS.get("final_step")(GroupOutcome(p, [""], []), 0, DEFAULT_TEMPLATES))
        print(p.solution)
        """
    )
    proc = _python("-c", snippet, site=[plugin_site], cwd=work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    hint, solution = proc.stdout.splitlines()[:2]
    last_step = [s for s in solution.split(".") if "=" in s][-1].strip()
    assert hint.endswith(f"(Last step: {last_step})")


def test_contract_suite_on_the_installed_plugin(plugin_site: Path, work: Path) -> None:
    snippet = textwrap.dedent(
        """
        import sys
        from creditzoo import get_algorithm
        from creditzoo.testing import check_algorithm
        check_algorithm("clipped_grpo")
        print(sys.modules[get_algorithm("clipped_grpo").__module__].__file__)
        """
    )
    proc = _python("-c", snippet, site=[plugin_site], cwd=work)
    assert proc.returncode == 0, proc.stderr
    # Loaded from the pip-installed copy, not from the checkout.
    assert Path(proc.stdout.strip()).is_relative_to(plugin_site)


def test_the_example_own_tests_pass(plugin_site: Path, work: Path) -> None:
    """examples/plugin/tests is outside creditzoo's testpaths; run it against the install."""
    proc = _python(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", str(work / "src" / "tests"),
        site=[plugin_site], cwd=work / "src",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_entry_point_name_must_match_register_name(tmp_path: Path) -> None:
    site = _fake_plugin(
        tmp_path,
        dist="mismatched_plugin",
        ep_name="ep_side_name",
        module="mismatched_mod",
        source="""
            from dataclasses import dataclass
            from creditzoo import Algorithm, register

            @register("register_side_name")
            @dataclass
            class Mismatched(Algorithm):
                pass
        """,
    )
    proc = _python("-m", "creditzoo", "list", site=[site], cwd=tmp_path)
    assert proc.returncode != 0
    assert "'ep_side_name'" in proc.stderr and "'register_side_name'" in proc.stderr
    assert "entry-point name must equal the registered algorithm name" in proc.stderr


def test_plugin_cannot_take_a_builtin_name(tmp_path: Path) -> None:
    site = _fake_plugin(
        tmp_path,
        dist="impostor_plugin",
        ep_name="grpo",
        module="impostor_mod",
        source="""
            from dataclasses import dataclass
            from creditzoo import Algorithm, register

            @register("grpo")
            @dataclass
            class Impostor(Algorithm):
                pass
        """,
    )
    proc = _python("-m", "creditzoo", "list", site=[site], cwd=tmp_path)
    assert proc.returncode != 0
    assert "'grpo' is already registered by creditzoo.algorithms.grpo.GRPO" in proc.stderr
    assert "impostor_mod.Impostor cannot take it" in proc.stderr
