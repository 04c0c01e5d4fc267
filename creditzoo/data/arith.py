"""Built-in procedural multi-step arithmetic: small enough that a 1M-param model learns it on CPU.

An expression ``a op b op c ...`` has 1–4 operators from ``+ - *``. Operands after ``+``/``-``
(and the first operand) lie in ``operand_range``; the right operand of ``*`` lies in
``mul_range``. Precedence is the usual one: every ``*`` first, left to right, then ``+``/``-``
left to right; negative intermediates are allowed. The solution writes one ``"a op b=c."``
step per operation in that order, then ``" \\boxed{answer}"``::

    Compute 16*8+4-1-14.
    16*8=128. 128+4=132. 132-1=131. 131-14=117. \\boxed{117}

Every problem is a pure function of a string seed, so any training batch can be regenerated
from ``(seed, step)`` alone (exact resume) and the test splits never change.

The "id" test split uses its own seed namespace but is *not* filtered against training: the
task has only 960 distinct one-operator expressions, so short expressions recur. Measured
against 100,032 training problems (``train_problems(step, 64, seed=0)``, steps 0..1562): 43% of
the first 200 "id" problems (38.5% of the first 1000) also occur in training — every 1-operator
problem, about half of the 2-operator ones, and under 4% of the 3-operator ones; no 4-operator
one. Report accuracy by operator count (in the uid) where memorisation matters. The "ood" split
(5 operators; training has at most 4) is disjoint from training by construction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from creditzoo.data.problem import Problem

OPS = ("+", "-", "*")
ORDERS = ("canonical", "free")


@dataclass
class ArithSpec:
    """Which expressions a split draws. ``levels``, when set, lists the allowed operator counts
    (drawn uniformly) and overrides ``min_ops``/``max_ops``, e.g. ``levels=(3, 4)``.

    ``order``: ``canonical`` solutions evaluate every ``*`` first, left to right, then ``+``/``-``
    left to right (one solution per problem); ``free`` solutions take, at every step, a valid
    operation drawn at random (``valid_operations``), so correct solutions of one problem differ
    from their first step on. A free-order spec draws the same expressions in a different
    sequence (the order draws share the generator)."""

    min_ops: int = 1
    max_ops: int = 4
    operand_low: int = 1
    operand_high: int = 20
    mul_low: int = 2
    mul_high: int = 9
    levels: tuple[int, ...] | None = None
    order: str = "canonical"

    def op_counts(self) -> tuple[int, ...]:
        counts = tuple(self.levels) if self.levels else tuple(range(self.min_ops, self.max_ops + 1))
        if not counts or min(counts) < 1:
            raise ValueError(f"ArithSpec needs operator counts >= 1, got {counts}")
        return counts

    def sample(self, rng: random.Random) -> Problem:
        """One problem; its uid is left for the caller to set."""
        if self.order not in ORDERS:
            raise ValueError(f"ArithSpec order must be one of {ORDERS}, got {self.order!r}")
        return make_problem(
            rng,
            rng.choice(self.op_counts()),
            (self.operand_low, self.operand_high),
            (self.mul_low, self.mul_high),
            order_rng=rng if self.order == "free" else None,
        )


def _apply(a: int, op: str, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _solve(nums: list[int], ops: list[str]) -> tuple[int, list[str]]:
    """Evaluate with normal precedence, recording each operation as a solution step."""
    nums, ops, steps = list(nums), list(ops), []
    for phase in ("*", "+-"):
        i = 0
        while i < len(ops):
            if ops[i] in phase:
                a, op, b = nums[i], ops[i], nums[i + 1]
                c = _apply(a, op, b)
                steps.append(f"{a}{op}{b}={c}.")
                nums[i : i + 2] = [c]
                del ops[i]
            else:
                i += 1
    return nums[0], steps


def valid_operations(ops: list[str]) -> list[int]:
    """Indices i of the operations ``nums[i] ops[i] nums[i+1]`` that may be evaluated next.

    A ``*`` always may (it binds tighter and is associative). A ``+``/``-`` may when neither
    neighbour is a ``*`` (those bind its operands first) and the operation to its left, if any,
    is a ``+``: a + (b ± c) = (a + b) ± c, but a − (b ± c) ≠ (a − b) ± c."""
    valid = []
    for i, op in enumerate(ops):
        left_ok = i == 0 or ops[i - 1] == "+"
        right_ok = i + 1 == len(ops) or ops[i + 1] != "*"
        if op == "*" or (left_ok and right_ok):
            valid.append(i)
    return valid


def apply_operation(nums: list[int], ops: list[str], i: int) -> str:
    """Evaluate operation i in place; returns its step, ``"a op b=c."``."""
    a, op, b = nums[i], ops[i], nums[i + 1]
    c = _apply(a, op, b)
    nums[i : i + 2] = [c]
    del ops[i]
    return f"{a}{op}{b}={c}."


def _solve_free(nums: list[int], ops: list[str], rng: random.Random) -> tuple[int, list[str]]:
    """Evaluate in a random valid order (one uniform draw among the valid operations per step)."""
    nums, ops, steps = list(nums), list(ops), []
    while ops:
        steps.append(apply_operation(nums, ops, rng.choice(valid_operations(ops))))
    return nums[0], steps


def make_problem(
    rng: random.Random,
    num_ops: int,
    operand_range: tuple[int, int] = (1, 20),
    mul_range: tuple[int, int] = (2, 9),
    order_rng: random.Random | None = None,
) -> Problem:
    """Draw one expression with ``num_ops`` operators (uid ``"arith-ops{num_ops}"``); with
    ``order_rng`` its solution takes a random valid order (``ArithSpec.order="free"``)."""
    if num_ops < 1:
        raise ValueError(f"num_ops must be >= 1, got {num_ops}")
    ops = [rng.choice(OPS) for _ in range(num_ops)]
    nums = [rng.randint(*operand_range)]
    nums += [rng.randint(*(mul_range if op == "*" else operand_range)) for op in ops]
    expr = str(nums[0]) + "".join(f"{op}{n}" for op, n in zip(ops, nums[1:], strict=True))
    value, steps = _solve(nums, ops) if order_rng is None else _solve_free(nums, ops, order_rng)
    return Problem(
        uid=f"arith-ops{num_ops}",
        problem=f"Compute {expr}.",
        answer=str(value),
        solution=" ".join(steps) + f" \\boxed{{{value}}}",
    )


def _with_uid(p: Problem, uid: str) -> Problem:
    return Problem(uid=uid, problem=p.problem, answer=p.answer, solution=p.solution)


def _num_ops(p: Problem) -> int:
    return int(p.uid.rsplit("ops", 1)[1])


def train_problems(
    step: int, n: int, seed: int, spec: ArithSpec | None = None, namespace: str = "train"
) -> list[Problem]:
    """Batch ``step`` of the endless training stream: a pure function of its arguments, so a
    resumed run regenerates exactly the batches it would have seen. Separate consumers (e.g. the
    SFT warm start) pass their own ``namespace`` so they never share data with RL training."""
    spec = spec or ArithSpec()
    rng = random.Random(f"arith-{namespace}-{seed}-{step}")
    out = []
    for i in range(n):
        p = spec.sample(rng)
        out.append(_with_uid(p, f"arith-{namespace}-s{seed}-{step:07d}-{i:04d}-ops{_num_ops(p)}"))
    return out


TEST_SPECS = {
    "id": ArithSpec(),
    # Out of distribution: one operator more than any training problem, same number ranges.
    # (Operands 21..40, never seen in training, scored under 1% sampled even with 2–3 operators.)
    "ood": ArithSpec(levels=(5,)),
}


def test_split(name: str, n: int) -> list[Problem]:
    """The fixed test split ``name`` ("id" or "ood"). Each problem is drawn from its own seed,
    so ``test_split(name, 200)`` is a prefix of ``test_split(name, 1000)``."""
    if name not in TEST_SPECS:
        raise KeyError(f"unknown arith split {name!r}; choose from {sorted(TEST_SPECS)}")
    spec = TEST_SPECS[name]
    out = []
    for i in range(n):
        p = spec.sample(random.Random(f"arith-test-{name}-{i}"))
        out.append(_with_uid(p, f"arith-{name}-{i:05d}-ops{_num_ops(p)}"))
    return out


test_split.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite the name
