"""The arithmetic task's step checker: the first step where a response leaves the solution.

The canonical solution of a problem is unique (every ``*`` first, left to right, then ``+``/``-``
left to right; ``data.arith``) and writes one ``"a op b=c."`` step per operation, then
``" \\boxed{answer}"``. A response is read the same way: the text before ``\\boxed{`` is cut
after every ``.`` into steps, and step k is compared with canonical step k as written. The final
answer counts as one more step, so a response whose steps are all right but whose answer is
wrong or missing has its first error at the answer.
"""

from __future__ import annotations

import re

from creditzoo.data.arith import apply_operation, valid_operations
from creditzoo.data.problem import Problem
from creditzoo.process.steps import StepCheck

_STEP = re.compile(r"(-?\d+)([+\-*])(-?\d+)=(-?\d+)\.")
_BOX = "\\boxed{"


def canonical_steps(problem: Problem) -> list[str]:
    """The solution's steps as written, e.g. ``["16*8=128.", "128+4=132."]``."""
    return [m.group(0) for m in _STEP.finditer(problem.solution)]


def check_arith_steps(problem: Problem, text: str) -> StepCheck:
    """Category and first wrong step of ``text`` as a solution of ``problem``.

    Step k is wrong when it is not canonical step k character for character: a wrong operand,
    operator or result, a step that does not read as ``a op b=c.``, a missing step (the answer
    or the end comes too early) or an extra one. Responses with neither a step (no ``=``) nor a
    boxed answer are unparseable."""
    expected = canonical_steps(problem)
    box = text.find(_BOX)
    region_end = box if box >= 0 else len(text)
    steps = list(_segments(text, region_end))
    answer, answer_span = _boxed(text, box)
    if box < 0 and not any("=" in text[a:b] for a, b in steps):
        return StepCheck("unparseable")
    right_answer = answer is not None and answer.strip() == problem.answer
    error = _first_error(text, steps, expected, answer_span, right_answer)
    if error is None:
        return StepCheck("correct")
    k, span, kind = error
    return StepCheck("lucky" if right_answer else "wrong", k, span, kind)


def _segments(text: str, end: int):
    """``(start, end)`` of each step: cut after every ``.``, leading spaces not included."""
    start = 0
    while start < end:
        while start < end and text[start].isspace():
            start += 1
        if start >= end:
            return
        stop = text.find(".", start, end)
        stop = end if stop < 0 else stop + 1
        # Trailing spaces before the answer are not part of the step.
        yield start, len(text[start:stop].rstrip()) + start
        start = stop


def _boxed(text: str, box: int) -> tuple[str | None, tuple[int, int] | None]:
    """The boxed answer and the span of ``\\boxed{…}`` (to the end of the text when unclosed)."""
    if box < 0:
        return None, None
    close = text.find("}", box + len(_BOX))
    if close < 0:
        return None, (box, len(text))
    return text[box + len(_BOX) : close], (box, close + 1)


def _first_error(text, steps, expected, answer_span, right_answer):
    for k, (a, b) in enumerate(steps):
        if k >= len(expected):
            return k, (a, b), "extra"
        if text[a:b] != expected[k]:
            return k, (a, b), _kind(text[a:b], expected[k])
    k = len(steps)
    if k < len(expected):  # the answer (or the end of the text) comes too early
        return k, answer_span or (len(text), len(text)), "missing"
    if not right_answer:
        return k, answer_span or (len(text), len(text)), "answer"
    return None


def _kind(written: str, expected: str) -> str:
    got, want = _STEP.fullmatch(written), _STEP.fullmatch(expected)
    if got is None or want is None:
        return "malformed"
    if got.group(2) != want.group(2):
        return "operator"
    if (got.group(1), got.group(3)) != (want.group(1), want.group(3)):
        return "operand"
    return "result"


# ----------------------------------------------------------------------------- free order
_EXPR = re.compile(r"Compute (\d+(?:[+\-*]\d+)*)\.")


def check_arith_steps_free(problem: Problem, text: str) -> StepCheck:
    """As ``check_arith_steps`` for the free-order task (``ArithSpec.order="free"``): step k is
    right when it performs, with the right result, *any* operation that may be evaluated next
    on the expression as the earlier steps left it (``data.arith.valid_operations``)."""
    nums, ops = _expression(problem)
    box = text.find(_BOX)
    steps = list(_segments(text, box if box >= 0 else len(text)))
    answer, answer_span = _boxed(text, box)
    if box < 0 and not any("=" in text[a:b] for a, b in steps):
        return StepCheck("unparseable")
    right_answer = answer is not None and answer.strip() == problem.answer
    error = _first_free_error(text, steps, nums, ops, answer_span, right_answer)
    if error is None:
        return StepCheck("correct")
    k, span, kind = error
    return StepCheck("lucky" if right_answer else "wrong", k, span, kind)


def _expression(problem: Problem) -> tuple[list[int], list[str]]:
    match = _EXPR.fullmatch(problem.problem.strip())
    if match is None:
        raise ValueError(f"not an arith problem: {problem.problem!r}")
    parts = re.split(r"([+\-*])", match.group(1))
    return [int(x) for x in parts[::2]], parts[1::2]


def _first_free_error(text, steps, nums, ops, answer_span, right_answer):
    for k, (a, b) in enumerate(steps):
        if not ops:
            return k, (a, b), "extra"
        step = _STEP.fullmatch(text[a:b])
        if step is None:
            return k, (a, b), "malformed"
        left, op, right = int(step[1]), step[2], int(step[3])
        valid = valid_operations(ops)
        same = [i for i in valid if (nums[i], nums[i + 1]) == (left, right)]
        chosen = next((i for i in same if ops[i] == op), None)
        if chosen is None:
            written = (left, op, right)
            exists = any((nums[i], ops[i], nums[i + 1]) == written for i in range(len(ops)))
            kind = "order" if exists else "operator" if same else "operand"
            return k, (a, b), kind
        if apply_operation(nums, ops, chosen) != text[a:b]:  # the result as written
            return k, (a, b), "result"
    k = len(steps)
    if ops:  # the answer (or the end of the text) comes too early
        return k, answer_span or (len(text), len(text)), "missing"
    if not right_answer:
        return k, answer_span or (len(text), len(text)), "answer"
    return None
