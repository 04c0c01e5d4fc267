"""MathVerifier: grading table, hang/crash recovery, hostile inputs, API contracts."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from creditzoo.verify import MathVerifier, VerifyResult, VerifyStatus
from creditzoo.verify import math_verifier as mv_module

TOWER = r"\boxed{9^{9^{9^{9}}}}"  # vs "1": sympy tries to evaluate it and runs for minutes


@pytest.fixture(scope="module")
def verifier() -> Iterator[MathVerifier]:
    v = MathVerifier(timeout_s=1.0, num_workers=2)
    yield v
    v.close()


# (completion, reference, expected status, expected correct)
CASES = [
    (r"\boxed{1/2}", "0.5", "ok", True),
    (r"The answer is $\boxed{\frac{1}{2}}$.", "$0.5$", "ok", True),
    (r"\boxed{3}", "4", "ok", False),
    ("garbage no answer", "7", "no_answer", False),
    (r"16*8=128. 128+4=132. \boxed{132}", "132", "ok", True),
    (r"First \boxed{5} ... then \boxed{7}", "7", "ok", True),  # last box wins
    (r"First \boxed{5} ... then \boxed{7}", "5", "ok", False),
    (r"\boxed{5}\boxed{7}", "7", "ok", True),
    (r"\boxed{-12}", "-12", "ok", True),
    (r"\boxed{12}", "-12", "ok", False),
    (r"\boxed{\{1,2,3\}}", r"\{3,2,1\}", "ok", True),
    (r"\boxed{\{1,2\}}", r"\{1,2,3\}", "ok", False),
    (r"\boxed{x^2+2x+1}", "(x+1)^2", "ok", True),  # bare LaTeX gold, symbolic equality
    (r"\boxed{x^2+2x}", "(x+1)^2", "ok", False),
    (r"\boxed{2x+1}", "2x+1", "ok", True),
    (r"\boxed{\dfrac{3}{4}}", "0.75", "ok", True),
    (r"\boxed{3\sqrt{2}}", r"\sqrt{18}", "ok", True),
    ("The final answer is 42", "42", "ok", True),  # no box: math-verify's fallbacks
    (r"\boxed{}", "3", "no_answer", False),
    ("", "3", "no_answer", False),
]


@pytest.mark.parametrize(("completion", "reference", "status", "correct"), CASES)
def test_grading_table(
    verifier: MathVerifier, completion: str, reference: str, status: str, correct: bool
) -> None:
    (r,) = verifier([completion], [reference])
    assert (r.status, r.correct) == (status, correct)
    assert r.reward == (1.0 if correct else 0.0)
    assert (r.parsed is None) == (status != "ok")


# A hang guard, not a timing: without the timeout or with a blocking pipe write these calls never
# return (math-verify never finishes the power tower); on a loaded 2-core machine a healthy call
# took 5.9 s.
HANG_GUARD_S = 30.0


def test_batch_matches_table_order(verifier: MathVerifier) -> None:
    results = verifier([c[0] for c in CASES], [c[1] for c in CASES])
    assert [(r.status, r.correct) for r in results] == [(c[2], c[3]) for c in CASES]


def test_hang_times_out_and_pool_recovers(verifier: MathVerifier) -> None:
    followers = [(rf"\boxed{{{i}}}", str(i if i % 2 else i + 1)) for i in range(8)]
    t0 = time.monotonic()
    results = verifier([TOWER] + [c for c, _ in followers], ["1"] + [g for _, g in followers])
    elapsed = time.monotonic() - t0
    assert results[0] == VerifyResult(0.0, False, "timeout", None)
    assert elapsed < HANG_GUARD_S
    assert [r.status for r in results[1:]] == ["ok"] * len(followers)
    assert [r.correct for r in results[1:]] == [i % 2 == 1 for i in range(len(followers))]
    # ...and the replacement worker keeps serving later calls.
    assert verifier([r"\boxed{2}"], ["2"])[0].correct


def test_stuck_worker_does_not_block_long_writes(verifier: MathVerifier) -> None:
    # Items larger than a pipe buffer queued behind a hung item: a blocking write would hang.
    big = "x" * 99_000 + r" \boxed{5}"
    t0 = time.monotonic()
    results = verifier([TOWER] + [big] * 6, ["1"] + ["5"] * 6)
    assert time.monotonic() - t0 < HANG_GUARD_S
    assert results[0].status == "timeout"
    assert all(r.status == "ok" and r.correct for r in results[1:])


def test_hostile_inputs_never_raise(verifier: MathVerifier) -> None:
    hostile = [
        "\x00\x00 \\boxed{1\x00}",
        "\ud800",
        "\\boxed{\ud800}",
        "a" * 2_000_000,
        "{" * 20_000,
        "\\boxed{" + "{" * 20_000,
        "\\boxed{" + "{" * 20_000 + "}",  # hangs math-verify's parser: "timeout"
        "}" * 1000 + "\\boxed{" * 1000,
    ]
    t0 = time.monotonic()
    results = verifier(hostile, ["1"] * len(hostile))
    assert time.monotonic() - t0 < HANG_GUARD_S
    assert len(results) == len(hostile)
    for r in results:
        assert r.status in VerifyStatus.ALL
        assert r.reward == (1.0 if r.correct else 0.0)
    assert verifier([r"\boxed{1}"], ["1"])[0].correct


def test_works_off_the_main_thread(verifier: MathVerifier) -> None:
    # The reason for the subprocess design: math-verify's own signal timeouts fail in threads.
    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(verifier, [r"\boxed{1/2}", TOWER], ["0.5", "1"]).result()
    assert [(r.status, r.correct) for r in results] == [("ok", True), ("timeout", False)]


def test_truncation_keeps_the_tail() -> None:
    v = MathVerifier(max_chars=50)  # no call, so no workers are started
    text = r"\boxed{1}" + "x" * 100 + r"\boxed{2}"
    sent = json.loads(v._encode(0, text, "2"))
    assert sent["p"] == text[-50:]
    v.close()


def test_empty_and_mismatched_inputs(verifier: MathVerifier) -> None:
    assert verifier([], []) == []
    with pytest.raises(ValueError):
        verifier(["a", "b"], ["a"])


def test_count_statuses(verifier: MathVerifier) -> None:
    assert MathVerifier.count_statuses([]) == dict.fromkeys(VerifyStatus.ALL, 0)
    made = [VerifyResult(0.0, False, s, None) for s in ("timeout", "error", "error")]
    results = verifier([r"\boxed{1}", r"\boxed{2}", "nothing"], ["1", "1", "1"]) + made
    assert MathVerifier.count_statuses(results) == {
        "ok": 2,
        "no_answer": 1,
        "timeout": 1,
        "error": 2,
    }


FAKE_WORKER = """
import json, os, sys
print('{"ready": true}', flush=True)
for line in sys.stdin:
    m = json.loads(line)
    if m["p"] == "CRASH":
        os._exit(3)
    print(json.dumps({"i": m["i"], "s": "ok", "c": m["p"] == m["g"], "x": m["p"]}), flush=True)
"""


def test_worker_crash_is_retried_once_then_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    monkeypatch.setattr(mv_module, "_WORKER_SCRIPT", script)
    with MathVerifier(timeout_s=5.0, num_workers=1) as v:
        results = v(["a", "CRASH", "b", "c"], ["a", "x", "b", "z"])
        assert [(r.status, r.correct) for r in results] == [
            ("ok", True),
            ("error", False),
            ("ok", True),  # innocent items queued behind the crash are re-sent, not failed
            ("ok", False),
        ]
        procs = [w.proc for w in v._workers]
    assert procs and all(p.poll() is not None for p in procs)  # close() stopped them


def test_broken_environment_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "broken_worker.py"
    script.write_text("import sys\nsys.exit(1)\n")
    monkeypatch.setattr(mv_module, "_WORKER_SCRIPT", script)
    v = MathVerifier(num_workers=1)
    with pytest.raises(RuntimeError, match="failed to start"):
        v(["x"], ["1"])
    v.close()
    with pytest.raises(RuntimeError, match="closed"):
        v(["x"], ["1"])


def test_worker_script_is_standalone() -> None:
    # Fast start-up relies on the worker importing neither creditzoo nor torch.
    src = Path(mv_module._WORKER_SCRIPT).read_text()
    assert "creditzoo" not in src.replace("creditzoo (nor torch)", "")
    assert "import torch" not in src
    assert Path(sys.executable).exists()
