"""The arithmetic step checker on hand-written responses: every category and error kind."""

import pytest

from creditzoo.data.arith_steps import canonical_steps, check_arith_steps
from creditzoo.data.problem import Problem

# 16*8+4-1 → 16*8=128. 128+4=132. 132-1=131. \boxed{131}
P = Problem("t", "Compute 16*8+4-1.", "131", "16*8=128. 128+4=132. 132-1=131. \\boxed{131}")
GOOD = "16*8=128. 128+4=132. 132-1=131. \\boxed{131}"


def test_canonical_steps_read_the_solution():
    assert canonical_steps(P) == ["16*8=128.", "128+4=132.", "132-1=131."]
    neg = Problem("n", "Compute 3-10+4.", "-3", "3-10=-7. -7+4=-3. \\boxed{-3}")
    assert canonical_steps(neg) == ["3-10=-7.", "-7+4=-3."]


def test_correct_response():
    check = check_arith_steps(P, GOOD)
    assert (check.category, check.first_error, check.span, check.kind) == (
        "correct",
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "text, k, kind, span_text",
    [
        # a wrong result in step 1; the last step follows from it, answer wrong
        ("16*8=128. 128+4=133. 133-1=132. \\boxed{132}", 1, "result", "128+4=133."),
        ("16*8=128. 128-4=124. 124-1=123. \\boxed{123}", 1, "operator", "128-4=124."),
        ("16*8=128. 128+5=133. 133-1=132. \\boxed{132}", 1, "operand", "128+5=133."),
        # evaluation order: + before * is a wrong first step (the operator is checked first)
        ("8+4=12. 16*12=192. \\boxed{192}", 0, "operator", "8+4=12."),
        ("16*8=128 128+4=132. \\boxed{132}", 0, "malformed", "16*8=128 128+4=132."),
        # the answer comes one step too early: the missing step is the answer's place
        ("16*8=128. 128+4=132. \\boxed{132}", 2, "missing", "\\boxed{132}"),
        ("16*8=128. 128+4=132. 132-1=131. 131-1=130. \\boxed{130}", 3, "extra", "131-1=130."),
        # every step right, the boxed answer wrong
        ("16*8=128. 128+4=132. 132-1=131. \\boxed{130}", 3, "answer", "\\boxed{130}"),
        # unclosed box: the answer runs to the end of the text
        ("16*8=128. 128+4=132. 132-1=131. \\boxed{13", 3, "answer", "\\boxed{13"),
    ],
)
def test_wrong_responses_locate_the_first_wrong_step(text, k, kind, span_text):
    check = check_arith_steps(P, text)
    assert check.category == "wrong"
    assert (check.first_error, check.kind) == (k, kind)
    a, b = check.span
    assert text[a:b] == span_text


def test_missing_steps_at_the_end_are_an_empty_span_at_the_end():
    text = "16*8=128. 128+4=132."  # stopped before the last step and the answer
    check = check_arith_steps(P, text)
    assert (check.category, check.first_error, check.kind) == ("wrong", 2, "missing")
    assert check.span == (len(text), len(text))


def test_lucky_correct_answer_through_a_wrong_step():
    text = "16*8=128. 128+4=131. 131-1=131. \\boxed{131}"  # two wrong steps, right answer
    check = check_arith_steps(P, text)
    assert (check.category, check.first_error, check.kind) == ("lucky", 1, "result")


@pytest.mark.parametrize("text", ["", "the answer is one hundred", "???"])
def test_unparseable(text):
    check = check_arith_steps(P, text)
    assert (check.category, check.span) == ("unparseable", None)


def test_a_bare_wrong_answer_is_a_missing_first_step():
    check = check_arith_steps(P, "\\boxed{7}")
    assert (check.category, check.first_error, check.kind, check.span) == (
        "wrong",
        0,
        "missing",
        (0, 9),
    )
