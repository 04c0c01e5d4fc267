import os
import random
import re

os.environ["HF_HUB_OFFLINE"] = "1"

from creditzoo.data.arith import ArithSpec, _solve, make_problem, test_split, train_problems
from creditzoo.tasks import get_task


def test_hand_checked_solutions():
    value, steps = _solve([16, 8, 4, 1, 14], ["*", "+", "-", "-"])
    assert value == 117
    assert " ".join(steps) == "16*8=128. 128+4=132. 132-1=131. 131-14=117."
    # All * first, left to right; then +/- left to right through a negative intermediate.
    value, steps = _solve([3, 5, 7, 2, 4], ["-", "*", "+", "*"])
    assert value == -24
    assert steps == ["5*7=35.", "2*4=8.", "3-35=-32.", "-32+8=-24."]
    value, steps = _solve([2, 3, 4], ["*", "*"])
    assert (value, steps) == (24, ["2*3=6.", "6*4=24."])


def test_problem_format():
    p = make_problem(random.Random(0), 3)
    assert re.fullmatch(r"Compute \d+([+\-*]\d+){3}\.", p.problem)
    assert p.solution.endswith(f" \\boxed{{{p.answer}}}")
    assert p.solution.count("=") == 3
    assert p.uid == "arith-ops3"
    hint = get_task("arith").privileged_templates["answer"]
    assert hint.format(problem=p.problem, answer=p.answer) == (
        f"{p.problem} (Reference answer: {p.answer})"
    )


def test_answers_match_python_eval():
    rng = random.Random(123)
    spec = ArithSpec()
    for _ in range(1000):
        p = spec.sample(rng)
        expr = p.problem.removeprefix("Compute ").removesuffix(".")
        boxed = re.findall(r"\\boxed\{(-?\d+)\}", p.solution)[-1]
        assert boxed == p.answer == str(eval(expr))
        for a, op, b, c in re.findall(r"(-?\d+)([+\-*])(\d+)=(-?\d+)\.", p.solution):
            assert eval(f"({a}){op}{b}") == int(c)


def test_operand_ranges():
    for p in train_problems(0, 300, seed=1):
        expr = p.problem.removeprefix("Compute ").removesuffix(".")
        tokens = re.findall(r"\d+|[+\-*]", expr)
        assert 1 <= len(tokens) // 2 <= 4
        assert 1 <= int(tokens[0]) <= 20
        for op, n in zip(tokens[1::2], tokens[2::2], strict=True):
            assert (2 <= int(n) <= 9) if op == "*" else (1 <= int(n) <= 20)


def test_train_problems_deterministic_and_namespaced():
    a = train_problems(5, 16, seed=3)
    assert a == train_problems(5, 16, seed=3)
    assert a != train_problems(6, 16, seed=3)
    assert a != train_problems(5, 16, seed=4)
    assert [p.problem for p in a] != [
        p.problem for p in train_problems(5, 16, seed=3, namespace="warmstart")
    ]
    assert len({p.uid for p in a}) == 16


def test_levels_choose_op_counts():
    probs = train_problems(0, 200, seed=0, spec=ArithSpec(levels=(2, 4)))
    assert {p.uid.rsplit("ops", 1)[1] for p in probs} == {"2", "4"}
    probs = train_problems(0, 100, seed=0, spec=ArithSpec(min_ops=3, max_ops=3))
    assert all(p.solution.count("=") == 3 for p in probs)


def test_splits():
    ids = test_split("id", 200)
    assert len(ids) == 200 and len({p.uid for p in ids}) == 200
    assert ids[:50] == test_split("id", 50)  # prefix-stable
    assert ids[17].uid.startswith("arith-id-00017-ops")
    assert {p.uid[-1] for p in ids} == {"1", "2", "3", "4"}
    ood = test_split("ood", 100)
    # One operator more than any training problem, same number ranges.
    assert len(ood) == 100 and all(p.uid.endswith("ops5") for p in ood)
    assert all(p.solution.count("=") == 5 for p in ood)
    first = [int(re.match(r"Compute (\d+)", p.problem).group(1)) for p in ood]
    assert all(1 <= n <= 20 for n in first)
