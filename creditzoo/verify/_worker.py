"""Standalone math-verify worker, run as a script by ``MathVerifier``; speaks JSON lines.

Deliberately imports nothing from creditzoo (nor torch) so it starts in well under a second.
It runs math-verify with its signal-based timeouts disabled: the parent enforces the
wall-clock bound from outside by killing this process, which works for any hang, including
ones inside C code that signal.alarm could never interrupt.

Protocol (one JSON object per line, ASCII only):
  worker -> parent, once at start:  {"ready": true}
  parent -> worker:                 {"i": <id>, "p": <prediction>, "g": <gold>}
  worker -> parent:                 {"i": <id>, "s": <status>, "c": <bool>, "x": <str|null>}
"""

import os
import sys

# Running a script puts its own directory first on sys.path; drop it before any other import so
# that sibling modules can never shadow stdlib ones (e.g. a package file called ``math.py``).
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

import contextlib
import json
import logging
import re
import threading
import time
from functools import lru_cache

# Address-space cap so a runaway sympy computation fails with MemoryError (-> "error") instead of
# starving a shared machine during the seconds before the parent's timeout kills us.
_MEMORY_LIMIT_BYTES = 4 << 30


def _limit_memory() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _MEMORY_LIMIT_BYTES
        if hard != resource.RLIM_INFINITY:
            limit = min(hard, limit)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # not available on this platform; the parent's timeout still bounds time


def _watch_parent() -> None:
    """Exit when the parent dies, even if we are stuck in a long computation and never read EOF."""
    parent = os.getppid()
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def main() -> None:
    # Keep the protocol channel private: anything else printing to fd 1 (a library's print, C code)
    # goes to stderr instead of corrupting the JSON stream.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    _limit_memory()
    threading.Thread(target=_watch_parent, daemon=True).start()

    # The "timeouts disabled" warning is expected (the parent times out); per-item parse noise is
    # not worth a line on the trainer's stderr.
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    logging.getLogger("latex2sympy2_extended").setLevel(logging.CRITICAL)

    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    pred_config = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    gold_config = [LatexExtractionConfig(), ExprExtractionConfig()]

    @lru_cache(maxsize=4096)
    def parse_gold(gold: str) -> list:
        # Bare references such as "2x+1" or "\frac12" are mis-read (as "2") or missed by the
        # plain-text extractor, so references without math delimiters are read as inline LaTeX.
        if not any(tok in gold for tok in ("$", "\\boxed", "\\(", "\\[")):
            parsed = parse(f"${gold}$", extraction_config=gold_config, parsing_timeout=None)
            if parsed:
                return parsed
        return parse(gold, extraction_config=gold_config, parsing_timeout=None)

    boxed_open = re.compile(r"\\boxed\s*\{")

    def last_boxed_tail(pred: str) -> str:
        # math-verify merges nearby boxes ("\boxed{5} ... \boxed{7}" -> {5, 7}); we grade only
        # the last one, so cut the text so that the last box is the only one left. A bare
        # "\boxed" without a brace (prose about boxing) does not count as a box.
        start = -1
        for m in boxed_open.finditer(pred):
            start = m.start()
        return pred[start:] if start >= 0 else pred

    def grade(pred: str, gold: str) -> tuple[str, bool, str | None]:
        pred_parsed = parse(
            last_boxed_tail(pred), extraction_config=pred_config, parsing_timeout=None
        )
        if not pred_parsed:
            return "no_answer", False, None
        gold_parsed = parse_gold(gold)
        correct = bool(gold_parsed) and verify(gold_parsed, pred_parsed, timeout_seconds=None)
        shown = pred_parsed[-1]
        return "ok", bool(correct), shown if isinstance(shown, str) else None

    # Warm up lazy sympy/latex2sympy imports so the first real item is not charged for them.
    with contextlib.suppress(Exception):
        grade("\\boxed{\\frac{1}{2}}", "0.5")
        grade("\\boxed{x^2+2x+1}", "(x+1)^2")  # first symbolic simplification costs ~0.2 s
    out.write(b'{"ready": true}\n')

    for raw in sys.stdin.buffer:
        try:
            msg = json.loads(raw)
            item_id = msg["i"]
        except Exception:
            continue  # not ours to answer; the parent times out anything it is waiting for
        try:
            status, correct, shown = grade(msg["p"], msg["g"])
        except Exception as exc:  # RecursionError / MemoryError from hostile input, too
            status, correct, shown = "error", False, None
            print(f"math-verify worker: {type(exc).__name__} on item {item_id}", file=sys.stderr)
        line = json.dumps({"i": item_id, "s": status, "c": correct, "x": shown})
        try:
            out.write(line.encode("ascii") + b"\n")
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
