"""Issue 19: agreement with math-verify's own semantics — percentages, multi-box answers,
self-corrections and bare references — and the percent-parser shim pinned to the installed
versions. Expected values are written by hand, each with its reason."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditzoo.verify import MathVerifier, VerifyResult
from creditzoo.verify import _worker as worker

ROOT = Path(__file__).resolve().parents[2]

# (completion, reference, expected correct, why)
PERCENT = [
    (r"\boxed{28\%}", "28", True, "an integer percent against an integer compares the numbers"),
    (r"\boxed{28\%}", "0.28", True, "against a decimal a percent counts as its value, 28/100"),
    (r"\boxed{28\%}", r"28\%", True, "the same percent (bare reference read as LaTeX)"),
    (r"\boxed{28\%}", r"28 \%", True, r"a space before \% changes nothing"),
    (r"\boxed{28 \%}", r"28\%", True, "the same, on the completion's side"),
    (r"\boxed{28}", r"28\%", True, "the integer rule is symmetric"),
    (r"\boxed{0.28}", r"28\%", True, "the value rule is symmetric"),
    (r"The loss is $\boxed{28\%}$.", "28", True, "a percent inside math delimiters and prose"),
    (r"\boxed{28 percent}", r"28\%", True, r"'percent' in words is normalised to \%"),
    (r"\boxed{50\%}", r"\frac{1}{2}", True, "a percent equals its exact rational value"),
    (r"\boxed{12.5\%}", "0.125", True, "decimal percents have a value too"),
    (r"\boxed{27\%}", "28", False, "a different number"),
    (r"\boxed{28\%}", "0.29", False, "a different value"),
    (r"\boxed{28\%}", "2.8", False, "28% is 0.28, not 2.8"),
]

MULTI_BOX = [
    (r"\boxed{-2} and \boxed{1}", "-2, 1", True, "two roots in two boxes are one answer"),
    (r"$\boxed{-2}$ and $\boxed{1}$", "-2, 1", True, "each box in its own math delimiters"),
    (r"\boxed{-2}, \boxed{1}", "-2, 1", True, "joined by a comma"),
    (r"\boxed{-2} \quad \boxed{1}", "-2, 1", True, r"joined by \quad"),
    (r"\boxed{-2} \text{ or } \boxed{1}", r"\{-2, 1\}", True, r"'or' in \text; a set reference"),
    (r"\[ \boxed{-2} \quad \text{and} \quad \boxed{1}. \]", "1, -2", True, "order is free"),
    (r"\boxed{1}, \boxed{2}, \boxed{3}", r"\{1, 2, 3\}", True, "runs of more than two boxes"),
    (r"\boxed{(1, 2)}, \boxed{(2, 1)}", "(2, 1), (1, 2)", True, "boxed pairs form a set of pairs"),
    (r"\boxed{-2} and \boxed{1}", "1", False, "one root alone is not the answer"),
    (r"\boxed{-2} and \boxed{1}", "-2, 1, 3", False, "a root is missing"),
]

SELF_CORRECTION = [
    (r"\boxed{5} ... wait, that is wrong ... \boxed{7}", "7", True, "the last answer counts"),
    (r"\boxed{5} ... wait, that is wrong ... \boxed{7}", "5", False, "the retracted one does not"),
    (r"\boxed{5} ... wait, that is wrong ... \boxed{7}", "5, 7", False, "nor do both together"),
    (r"\boxed{5}, wait, no: \boxed{7}", "7", True, "a comma followed by prose still corrects"),
    (r"\boxed{5} or maybe \boxed{7}", "7", True, "'or' with prose is a correction, not a list"),
    (r"$\boxed{5}$. Let me check. So it is $\boxed{7}$.", "7", True, "delimited boxes alike"),
    (r"\boxed{5}\boxed{7}", "7", True, "boxes with nothing between: the last one"),
]

BARE_REFERENCE = [
    (r"\boxed{2x+1}", "2x+1", True, "read as plain text the reference would be 2"),
    (r"\boxed{2}", "2x+1", False, "...which is why it is read as LaTeX"),
    (r"\boxed{\frac{1}{2}}", r"\frac12", True, "a brace-less LaTeX fraction"),
    (r"\boxed{\sqrt{2}/2}", r"\frac{\sqrt{2}}{2}", True, "compared symbolically"),
    (r"\boxed{-2, 1}", "-2, 1", True, "a bare list"),
    (r"\boxed{[1, \infty)}", r"[1, \infty)", True, "a bare interval"),
    (r"\boxed{\pi}", r"\pi", True, "a bare LaTeX constant"),
    (r"\boxed{0.5}", r"$\frac{1}{2}$", True, "a delimited reference is parsed as given"),
]

TABLES = {
    "percent": PERCENT,
    "multi_box": MULTI_BOX,
    "self_correction": SELF_CORRECTION,
    "bare_reference": BARE_REFERENCE,
}
ALL_CASES = [(t, i) for t, rows in TABLES.items() for i in range(len(rows))]


@pytest.fixture(scope="module")
def graded() -> Iterator[dict[tuple[str, int], VerifyResult]]:
    """Every table graded in one batch (one worker start-up for the whole file)."""
    keys = ALL_CASES
    rows = [TABLES[t][i] for t, i in keys]
    with MathVerifier(timeout_s=5.0, num_workers=2) as v:
        results = v([r[0] for r in rows], [r[1] for r in rows])
    yield dict(zip(keys, results, strict=True))


@pytest.mark.parametrize(("table", "index"), ALL_CASES, ids=[f"{t}-{i}" for t, i in ALL_CASES])
def test_grading(graded: dict[tuple[str, int], VerifyResult], table: str, index: int) -> None:
    completion, reference, correct, why = TABLES[table][index]
    result = graded[(table, index)]
    assert result.status == "ok", (completion, reference, result)
    assert result.correct is correct, f"{completion!r} vs {reference!r}: {why} ({result})"


# ---------------------------------------------------------------------------- percent shim

# What the percent shim finds per (antlr4-python3-runtime, latex2sympy2_extended): whether the
# unpatched parser fails on percents, and whether the shim patches. The first row is what the
# project's venv installs (hydra-core and omegaconf force the 4.9 runtime); the others were
# measured in scratch venvs (issue 19). A version pair not listed here fails the test on purpose:
# re-measure (does `\boxed{28\%}` parse without the shim?) and add its row.
SHIM_BY_VERSIONS = {
    ("4.9.3", "1.11.0"): {"needed": True, "patched": True},  # stale 4.9.3 parser
    ("4.13.2", "1.11.0"): {"needed": False, "patched": False},  # up-to-date parser
    ("4.9.3", "1.10.2"): {"needed": False, "patched": True},  # patched, but never asked for
}

PROBE = textwrap.dedent(
    r"""
    import importlib.metadata as md, importlib.util, json, logging, sys
    spec = importlib.util.spec_from_file_location("probe_worker", sys.argv[1])
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    from math_verify import LatexExtractionConfig, parse
    cfg = [LatexExtractionConfig(boxed_match_priority=0)]
    pct = lambda: [str(x) for x in parse(r"\boxed{28\%}", cfg, parsing_timeout=None)]
    before = pct()
    patched = worker.patch_stale_percent_parser()
    print(json.dumps({
        "versions": [md.version("antlr4-python3-runtime"), md.version("latex2sympy2_extended")],
        "before": before,
        "patched": patched,
        "patched_again": worker.patch_stale_percent_parser(),
        "after": pct(),
    }))
    """
)
PERCENT_VALUE = "28*(1/100)"  # how math-verify prints a parsed 28\%
RAW_STRING = r"28\%"  # its fallback when the percent does not parse


@pytest.fixture(scope="module")
def probe() -> dict:
    """The shim's effect in a fresh interpreter, so this process's parser stays unpatched."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(worker.__file__)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_percent_shim_matches_the_installed_versions(probe: dict) -> None:
    versions = tuple(probe["versions"])
    assert versions in SHIM_BY_VERSIONS, (
        f"untested versions (antlr4-python3-runtime, latex2sympy2_extended) = {versions}: check "
        f"whether the percent shim is still needed (probe: {probe}) and add a row"
    )
    expected = SHIM_BY_VERSIONS[versions]
    assert (probe["before"] == [RAW_STRING]) is expected["needed"], probe
    assert probe["patched"] is expected["patched"], probe
    assert probe["patched_again"] is False  # idempotent


def test_percent_parses_after_the_shim(probe: dict) -> None:
    assert probe["after"][0] == PERCENT_VALUE, probe


# ---------------------------------------------------------------------------- the final answer


@pytest.mark.parametrize(
    ("completion", "tail"),
    [
        ("no box at all: 42", "no box at all: 42"),
        (r"so \boxed{7}.", r"\boxed{7}."),
        (r"\boxed{5} wait \boxed{7}", r"\boxed{7}"),
        (r"so \boxed{-2} and \boxed{1}.", r"\boxed{-2} and \boxed{1}."),
        (r"so $\boxed{-2}$, $\boxed{1}$", r"$\boxed{-2}$, $\boxed{1}$"),
        (r"\boxed{5} wait \boxed{-2}, and \boxed{1}", r"\boxed{-2}, and \boxed{1}"),
        (r"\boxed{1}\,\boxed{2}", r"\boxed{2}"),  # a thin space is no separator
        (r"\boxed{\boxed{1}}", r"\boxed{1}}"),  # nested: the inner box
        (r"\boxed{1} and \boxed", r"\boxed{1} and \boxed"),  # a bare \boxed is prose
    ],
)
def test_final_answer_tail(completion: str, tail: str) -> None:
    assert worker.final_answer_tail(completion) == tail


def test_final_answer_tail_is_linear_on_hostile_inputs() -> None:
    hostile = [
        "}" * 1000 + "\\boxed{" * 1000,  # a thousand unclosed boxes
        "\\boxed{1}" * 20_000,
        "\\boxed{1}, " * 20_000,  # one long run: all of it is the answer
        "\\boxed{" + "{" * 20_000 + "}",
    ]
    start = time.monotonic()
    for text in hostile:
        worker.final_answer_tail(text)
    assert time.monotonic() - start < 2.0


# ---------------------------------------------------------------------------- the benchmark


def _load_benchmark() -> object:
    path = ROOT / "benchmarks" / "verify_agreement.py"
    spec = importlib.util.spec_from_file_location("verify_agreement", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


FAKE_TEST_ALL = """
import pytest

def compare_strings(gold, pred, match_types=("latex", "expr"), precision=6):
    raise AssertionError("never called by the collector")

@pytest.mark.parametrize("gold,pred,expected", [("$1$", "$1$", 1), ("$1$", "$2$", 0)])
def test_pairs(gold, pred, expected):
    pass

@pytest.mark.parametrize("gold, pred, expected, precision", [("$1/3$", "0.33", 1, 2)])
def test_with_option(gold, pred, expected, precision):
    pass

@pytest.mark.parametrize("pred, expected", [("$1$", ["1"])])
def test_parse_only(pred, expected):
    pass

def test_literal():
    assert compare_strings("$\\\\frac{1}{3}$", "0.3333$", precision=4) == 1
"""
FAKE_TEST_BOXED = """
import pytest
from tests.test_all import compare_strings

@pytest.mark.parametrize("gold, pred, result", [pytest.param("$4$", "\\\\boxed{4}", 1)])
def test_boxed(gold, pred, result):
    pass
"""


def test_benchmark_collects_verify_cases(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    (tests / "test_all.py").write_text(FAKE_TEST_ALL)
    (tests / "test_boxed.py").write_text(FAKE_TEST_BOXED)
    bench = _load_benchmark()
    cases = bench.collect_cases(tmp_path)  # type: ignore[attr-defined]
    got = [(c.test_id, c.gold, c.pred, c.expected, c.options) for c in cases]
    assert got == [
        ("test_all.py::test_literal[0]", r"$\frac{1}{3}$", "0.3333$", True, {"precision": 4}),
        ("test_all.py::test_pairs[0]", "$1$", "$1$", True, {}),
        ("test_all.py::test_pairs[1]", "$1$", "$2$", False, {}),
        ("test_all.py::test_with_option[0]", "$1/3$", "0.33", True, {"precision": 2}),
        ("test_boxed.py::test_boxed[0]", "$4$", r"\boxed{4}", True, {}),
    ]
    leaked = [
        m for m, mod in sys.modules.items() if str(tmp_path) in str(getattr(mod, "__file__", ""))
    ]
    assert not leaked  # the checkout's modules are forgotten after collection
