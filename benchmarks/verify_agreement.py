"""Agreement of creditzoo's MathVerifier with math-verify's own test suite (issue 19).

Every number on the leaderboard passes through ``MathVerifier``, so it should agree with the
library it wraps. This collects the ``verify`` cases of a checkout of huggingface/Math-Verify's
tests (v0.8.0 has 270: every parametrized case with a gold, a prediction and an expected result,
plus the text comparison in ``test_precision``), gives each prediction to ``MathVerifier`` as a
completion and each gold as the reference, and counts how often ``correct`` equals the test's
expected result.

    python benchmarks/verify_agreement.py PATH [--timeout-s 2.0] [--workers 2]

where PATH is a checkout of huggingface/Math-Verify at tag 0.8.0 (any git clone of it).

Some disagreements are expected and not defects: ``MathVerifier`` grades with fixed options
(math-verify's defaults, the last run of ``\\boxed{}`` answers of the completion), while some
tests ask for other ones (``precision``, ``strict=False``, ``allow_set_relation_comp``, an
"expr"-only extractor, a gold that is itself model output). The script imports the checkout's
test modules (as pytest would), so it needs pytest and math-verify installed.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from creditzoo.verify import MathVerifier, VerifyResult

# Argument names under which the suite's tests spell the expected outcome.
_EXPECTED_NAMES = ("expected", "result")
_FAILED = ("timeout", "error")


@dataclass(frozen=True)
class Case:
    """One upstream verify case: ``verify(parse(gold), parse(pred)) == expected``."""

    test_id: str
    gold: str
    pred: str
    expected: bool
    options: dict[str, object] = field(default_factory=dict)
    """The test's other parameters (precision, strict, ...), which MathVerifier does not take."""


# ---------------------------------------------------------------------------- collection


def collect_cases(checkout: Path) -> list[Case]:
    """All verify cases of the checkout's ``tests/test_*.py``, in file and parameter order."""
    tests_dir = checkout / "tests"
    if not (tests_dir / "test_all.py").is_file():
        raise SystemExit(
            f"{checkout} does not look like a Math-Verify checkout (no tests/test_all.py)"
        )
    cases: list[Case] = []
    with _importable(checkout):
        for path in sorted(tests_dir.glob("test_*.py")):
            module = importlib.import_module(f"tests.{path.stem}")
            source = ast.parse(path.read_text(), filename=str(path))
            for name, func in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("test_") and func.__module__ == module.__name__:
                    cases += _parametrized_cases(f"{path.name}::{name}", func)
            cases += _literal_compare_cases(path.name, source)
    return sorted(cases, key=lambda c: _order_key(c.test_id))


class _importable:
    """Make the checkout's ``tests`` package importable (test_boxed imports ``tests.test_all``).

    The checkout goes first on sys.path and any ``tests`` modules already imported are set aside
    for the duration, then put back, so that ``tests`` means the checkout's only while collecting.
    """

    def __init__(self, checkout: Path) -> None:
        self.root = str(checkout.resolve())
        self.saved: dict[str, ModuleType] = {}

    def __enter__(self) -> None:
        self.saved = self._pop_tests()
        sys.path.insert(0, self.root)

    def __exit__(self, *exc: object) -> None:
        sys.path.remove(self.root)
        self._pop_tests()
        sys.modules.update(self.saved)

    @staticmethod
    def _pop_tests() -> dict[str, ModuleType]:
        names = [m for m in sys.modules if m == "tests" or m.startswith("tests.")]
        return {name: sys.modules.pop(name) for name in names}


def _parametrized_cases(test_id: str, func: object) -> list[Case]:
    """Cases of a ``@pytest.mark.parametrize`` with gold, pred and an expected-result column."""
    cases: list[Case] = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        argnames, argvalues = mark.args[0], mark.args[1]
        names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else argnames
        expected = next((n for n in _EXPECTED_NAMES if n in names), None)
        if "gold" not in names or "pred" not in names or expected is None:
            continue
        for i, values in enumerate(argvalues):
            values = getattr(values, "values", values)  # pytest.param(...) wraps its values
            row = dict(zip(names, values, strict=True))
            options = {k: v for k, v in row.items() if k not in ("gold", "pred", expected)}
            cases.append(
                Case(f"{test_id}[{i}]", row["gold"], row["pred"], bool(row[expected]), options)
            )
    return cases


def _literal_compare_cases(file_name: str, source: ast.Module) -> list[Case]:
    """``compare_strings("<gold>", "<pred>", ...) == N`` asserts in non-parametrized tests.

    Only ``test_precision`` has one in v0.8.0; its other asserts compare sympy objects, not text.
    """
    cases: list[Case] = []
    for func in source.body:
        if not isinstance(func, ast.FunctionDef) or not func.name.startswith("test_"):
            continue
        if func.decorator_list:
            continue  # parametrized (collected from the imported function) or patched
        for i, (gold, pred, expected, options) in enumerate(_compare_calls(func)):
            cases.append(Case(f"{file_name}::{func.name}[{i}]", gold, pred, expected, options))
    return cases


def _compare_calls(func: ast.FunctionDef) -> Iterator[tuple[str, str, bool, dict[str, object]]]:
    for node in ast.walk(func):
        if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Call)):
            continue
        call = node.left
        if not (isinstance(call.func, ast.Name) and call.func.id == "compare_strings"):
            continue
        if len(node.comparators) != 1 or not isinstance(node.ops[0], ast.Eq):
            continue
        try:
            gold, pred = (ast.literal_eval(a) for a in call.args[:2])
            expected = ast.literal_eval(node.comparators[0])
            options = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        except ValueError:
            continue  # not literal: cannot be reproduced without running the test
        yield gold, pred, bool(expected), options


def _order_key(test_id: str) -> tuple[str, int]:
    name, _, index = test_id.rpartition("[")
    return name, int(index.rstrip("]"))


# ---------------------------------------------------------------------------- grading


def grade(cases: list[Case], timeout_s: float, workers: int) -> list[VerifyResult]:
    """Grade each case's prediction against its gold with MathVerifier, as training would."""
    with MathVerifier(timeout_s=timeout_s, num_workers=workers) as verifier:
        return verifier([c.pred for c in cases], [c.gold for c in cases])


def report(cases: list[Case], results: list[VerifyResult], seconds: float) -> str:
    """Agreement summary, status counts and every disagreeing case."""
    disagree = [(c, r) for c, r in zip(cases, results, strict=True) if r.correct != c.expected]
    n, agree = len(cases), len(cases) - len(disagree)
    counts = MathVerifier.count_statuses(results)
    lines = [
        f"agreement: {agree}/{n} ({100 * agree / max(n, 1):.1f}%)",
        f"statuses: {counts}  (timeouts: {counts['timeout']}, errors: {counts['error']})",
        f"graded in {seconds:.1f} s",
    ]
    failed = [(c, r) for c, r in zip(cases, results, strict=True) if r.status in _FAILED]
    for title, rows in (("timed out or raised", failed), ("disagreeing", disagree)):
        if rows:
            lines.append(f"\n{len(rows)} cases {title}:")
        lines += [_describe(c, r) for c, r in rows]
    return "\n".join(lines)


def _describe(case: Case, result: VerifyResult) -> str:
    opts = f" options={case.options}" if case.options else ""
    return (
        f"- {case.test_id}: expected {int(case.expected)}, got {int(result.correct)} "
        f"(status {result.status}, parsed {_clip(result.parsed)}){opts}\n"
        f"    gold: {_clip(case.gold)}\n"
        f"    pred: {_clip(case.pred)}"
    )


def _clip(text: str | None, width: int = 160) -> str:
    if text is None:
        return "None"
    flat = repr(text)
    return flat if len(flat) <= width else flat[: width // 2] + " ... " + flat[-width // 2 :]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkout", type=Path, help="a checkout of huggingface/Math-Verify")
    parser.add_argument("--timeout-s", type=float, default=2.0, help="MathVerifier's timeout_s")
    parser.add_argument("--workers", type=int, default=2, help="MathVerifier's num_workers")
    args = parser.parse_args()

    cases = collect_cases(args.checkout)
    print(f"{len(cases)} verify cases from {args.checkout}")
    start = time.monotonic()
    results = grade(cases, args.timeout_s, args.workers)
    print(report(cases, results, time.monotonic() - start))


if __name__ == "__main__":
    main()
