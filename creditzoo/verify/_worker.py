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
from typing import Any

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


# ---------------------------------------------------------------------------- percent parser shim


def patch_stale_percent_parser() -> bool:
    r"""Make percent numbers (``28\%``) parse under the antlr 4.9.3 runtime; True if it patched.

    hydra-core and omegaconf pin ``antlr4-python3-runtime==4.9.*``, so latex2sympy2_extended
    loads the parser it generated for 4.9.3, and in 1.11.0 that one is stale: its ``AtomContext``
    lacks the ``FUNC_GAMMA`` accessor that ``convert_atom`` tests before ``PERCENT_NUMBER``.
    Every percent number then raises AttributeError and math-verify falls back to the raw string,
    so ``\boxed{28\%}`` is graded wrong. The stale grammar has no FUNC_GAMMA alternative in
    ``atom``, so the accessor it would have generated returns None for every atom: adding exactly
    that accessor is a no-op elsewhere and lets percentages reach their branch. Nothing is patched
    where the accessor exists (other runtimes, a fixed release), and a layout we do not recognise
    is left alone: grading then degrades as before instead of the worker failing to start.
    """
    try:
        from latex2sympy2_extended.antlr_parser import PSParser
    except Exception:
        return False
    atom = getattr(PSParser, "AtomContext", None)
    token_type = getattr(PSParser, "FUNC_GAMMA", None)
    if atom is None or token_type is None or hasattr(atom, "FUNC_GAMMA"):
        return False

    def func_gamma(self: Any) -> Any:
        return self.getToken(token_type, 0)

    atom.FUNC_GAMMA = func_gamma
    return True


# ---------------------------------------------------------------------------- the final answer

_BOX_OPEN = re.compile(r"\\boxed\s*\{")
# What may stand between two boxes of one answer ("\boxed{-2} and \boxed{1}"): spacing, math
# delimiters and at least one joining word. Anything else (prose, "wait", "y_2 =") makes the later
# box a new answer. Kept short so a long run of filler cannot join boxes far apart.
_MAX_JOINER_CHARS = 80
_FILLER = r"(?:\s|~|\$|\\[ ,;:!]|\\[()\[\]])*"
_SEPARATOR = r"(?:,|\band\b|\bor\b|\\q?quad(?![A-Za-z]))"
_JOINER = re.compile(rf"{_FILLER}(?:{_SEPARATOR}{_FILLER})+")
# "\text{ and }" and the like: the separator word wrapped in a text command.
_WRAPPED_SEPARATOR = re.compile(
    r"\\(?:text|textrm|textnormal|mathrm|mbox)\s*\{([\s,]*(?:and|or)?[\s,]*)\}"
)
# The math delimiter that opens the first box's environment, kept so that math-verify sees
# "$\boxed{-2}$ and $\boxed{1}$" whole rather than a stray "$ and $" pair.
_OPENING_DELIMITER = re.compile(r"(?:\$\$?|\\[(\[])\s*\Z")


def final_answer_tail(pred: str) -> str:
    r"""The completion from its final answer on: the last box, with the boxes joined to it.

    math-verify merges nearby boxes into a set ("\boxed{5} ... \boxed{7}" -> {5, 7}), which
    would grade a self-correction by both its answers. So we cut the text before its final
    answer: the last ``\boxed{}`` together with the boxes before it that are joined to it by
    ``,`` / ``and`` / ``or`` / ``\quad`` alone ("\boxed{-2} and \boxed{1}" is the one answer
    -2, 1), which math-verify then merges. A box followed by prose and another box is a
    self-correction, graded by the last box. A bare "\boxed" without a brace (prose about
    boxing) is no box; without any box the whole text goes to math-verify's fallbacks.
    """
    starts = list(_BOX_OPEN.finditer(pred))
    if not starts:
        return pred
    first = len(starts) - 1
    while first > 0 and _joined(pred, starts[first - 1], starts[first].start()):
        first -= 1
    start = starts[first].start()
    if first < len(starts) - 1:
        opener = _OPENING_DELIMITER.search(pred, max(0, start - 8), start)
        if opener is not None:
            start = opener.start()
    return pred[start:]


def _joined(pred: str, box: re.Match, next_start: int) -> bool:
    """Whether ``box`` closes before ``next_start`` and only a joiner stands between them."""
    end = _closing_brace(pred, box.end(), next_start)
    if end is None:
        return False  # unclosed before the next box, or the next box is inside this one
    between = pred[end + 1 : next_start]
    if len(between) > _MAX_JOINER_CHARS:
        return False
    between = _WRAPPED_SEPARATOR.sub(r" \1 ", between)
    return _JOINER.fullmatch(between) is not None


def _closing_brace(text: str, pos: int, limit: int) -> int | None:
    """Index of the brace closing the group opened just before ``pos``, searched before ``limit``.

    Bounded by the next box's start, so that scanning every box costs one pass over the text
    even for hostile inputs (thousands of unclosed boxes).
    """
    depth = 1
    for i in range(pos, limit):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


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

    patch_stale_percent_parser()  # percents under hydra's antlr 4.9.3 runtime (issue 19)
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

    def grade(pred: str, gold: str) -> tuple[str, bool, str | None]:
        pred_parsed = parse(
            final_answer_tail(pred), extraction_config=pred_config, parsing_timeout=None
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
