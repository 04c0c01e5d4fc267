"""The free-order arithmetic task: valid operations, random-order solutions, and its checker."""

import random

import pytest

from creditzoo.data.arith import ArithSpec, _solve, _solve_free, train_problems, valid_operations
from creditzoo.data.arith_steps import check_arith_steps_free
from creditzoo.data.problem import Problem
from creditzoo.errors import ConfigError
from creditzoo.tasks import TaskOptions, get_task


@pytest.mark.parametrize(
    "ops, valid",
    [
        (["+", "*", "-", "+"], [1]),  # a+b*c-d+e: only b*c; "-" and "+" follow a "*"/"-"
        (["-", "+", "*"], [0, 2]),  # a-b+c*d: a-b, or c*d; not b+c (a-(b+c) is wrong)
        (["+", "-"], [0, 1]),  # a+b-c: a+(b-c) is right
        (["*", "*"], [0, 1]),  # a*b*c: either product first
        (["-", "-"], [0]),
    ],
)
def test_valid_operations(ops, valid):
    assert valid_operations(ops) == valid


def test_every_free_order_reaches_the_canonical_value():
    rng = random.Random(0)
    for _ in range(500):
        ops = [rng.choice("+-*") for _ in range(rng.randint(1, 5))]
        nums = [rng.randint(1, 20) for _ in range(len(ops) + 1)]
        assert _solve_free(nums, ops, rng)[0] == _solve(nums, ops)[0]


def test_free_solutions_vary_and_pass_their_checker():
    problems = train_problems(0, 400, seed=0, spec=ArithSpec(order="free"))
    assert all(check_arith_steps_free(p, p.solution).category == "correct" for p in problems)
    canonical = {p.problem: p.solution for p in train_problems(0, 400, seed=0)}
    differ = [p for p in problems if p.problem in canonical and canonical[p.problem] != p.solution]
    assert differ  # some free solutions take another order than the canonical one


P = Problem("t", "Compute 16*8+4-1.", "131", "")


@pytest.mark.parametrize(
    "text, category, k, kind",
    [
        ("16*8=128. 128+4=132. 132-1=131. \\boxed{131}", "correct", None, None),
        ("4-1=3. 16*8=128. 128+3=131. \\boxed{131}", "correct", None, None),  # another order
        ("8+4=12. 16*12=192. 192-1=191. \\boxed{191}", "wrong", 0, "order"),  # + before *
        ("16*8=128. 128-4=124. \\boxed{1}", "wrong", 1, "operator"),
        ("16*8=128. 4-1=3. 128+3=130. \\boxed{130}", "wrong", 2, "result"),
        ("16*8=128. 5-1=4. 128+3=131. \\boxed{131}", "lucky", 1, "operand"),
        ("16*8=128. 4-1=3. \\boxed{131}", "lucky", 2, "missing"),
        ("16*8=128. 128+4=132. 132-1=131. \\boxed{130}", "wrong", 3, "answer"),
        ("", "unparseable", None, None),
    ],
)
def test_free_checker(text, category, k, kind):
    check = check_arith_steps_free(P, text)
    assert (check.category, check.first_error, check.kind) == (category, k, kind)


def test_arith_refuses_free_order_and_points_to_arith_free():
    with pytest.raises(ConfigError, match="arith-free"):
        get_task("arith", TaskOptions(spec={"order": "free"}))
    task = get_task("arith-free")
    assert task.check_steps is check_arith_steps_free and task.steps_checkable
