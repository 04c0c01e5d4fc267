"""A corpus of hostile model outputs: each returns within about timeout_s, never raises, never
runs code, and a batch full of them stays bounded."""

import time
from pathlib import Path

import pytest

from creditzoo.verify import MathVerifier

TIMEOUT = 1.0


def _corpus(tmp: Path) -> dict[str, str]:
    marker = tmp / "pwned"
    return {
        "power_tower": r"\boxed{9^{9^{9^{9}}}}",
        "huge_factorial": r"\boxed{(10^{100000})!}",
        "nested_braces": r"\boxed{" + "{" * 20_000 + "1" + "}" * 20_000 + "}",
        "many_boxes": r"\boxed{1}" * 20_000,
        "megabyte": "7 " * 500_000,
        "megabyte_boxed": "x" * 1_000_000 + r"\boxed{1}",
        "nul_bytes": "\x00" * 1000 + r"\boxed{\x00}",
        "broken_unicode": "\ud800\udfff\ufffe" * 1000 + r"\boxed{\ud800}",
        "unterminated": r"\boxed{\frac{1}{" + r"\left(" * 500,
        "macro_loop": r"\def\a{\a\a}\a \boxed{\a}",
        "python_call": r"\boxed{__import__('os').system('touch " + str(marker) + r"')}",
        "python_eval": "\\boxed{eval(\"open('" + str(marker) + "','w').write('x')\")}",
        "lambda": r"\boxed{(lambda: [0] * 10**10)()}",
    }


@pytest.fixture(scope="module")
def verifier():
    with MathVerifier(timeout_s=TIMEOUT, num_workers=2) as v:
        yield v


def test_each_hostile_output_is_bounded_and_harmless(verifier, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    for name, text in corpus.items():
        start = time.monotonic()
        [result] = verifier([text], ["1"])
        elapsed = time.monotonic() - start
        # A killed worker is replaced before the next call; allow for that start-up.
        assert elapsed < TIMEOUT + 6.0, (name, elapsed)
        assert result.status in {"timeout", "error", "no_answer", "ok"}, name
        if result.status != "ok":
            assert result.reward == 0.0 and not result.correct, name
    assert not (tmp_path / "pwned").exists(), "a payload ran code"


def test_a_batch_full_of_them_stays_bounded(verifier, tmp_path: Path) -> None:
    corpus = list(_corpus(tmp_path).values())
    batch = corpus * 2 + [r"\boxed{1}"] * 8
    start = time.monotonic()
    results = verifier(batch, ["1"] * len(batch))
    elapsed = time.monotonic() - start
    # Worst case: every hostile item times out, two at a time, plus worker restarts.
    assert elapsed < len(corpus) * 2 * TIMEOUT / 2 + 30, elapsed
    assert all(r.correct for r in results[-8:])  # honest answers behind them still graded
    counts = MathVerifier.count_statuses(results)
    assert sum(counts.values()) == len(batch)
