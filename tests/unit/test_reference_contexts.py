"""RLCSD's and CEPO's privileged contexts as their reference code builds them, on hand-made groups.

RLCSD (THU-BPM/RLCSD ``_hint_candidate_indices``): a random correct sibling as the positive and
up to K random wrong siblings as negatives, never the row itself nor a copy of its text, drawn
reproducibly from (seed, step); rows without a positive are dropped (``None``).
CEPO (ahmedheakl/CEPO ``_build_cepo_teacher_batch``): the group's worst rejected rollout, ties to
the first index, for every row including itself; its first 50 characters when nothing parses.
"""

from collections import Counter

from creditzoo.data.problem import Problem
from creditzoo.providers.contexts import (
    CONTEXTS,
    DEFAULT_TEMPLATES,
    NEGATIVE_CONTEXTS,
    GroupOutcome,
)
from creditzoo.verify import VerifyResult

PROBLEM = Problem("p7", "Compute 2+3.", "5", "2+3=5. \\boxed{5}")
TEMPLATES = {**DEFAULT_TEMPLATES, "correct_sibling": "{problem} [{response} => {answer}]"}


def _v(correct: bool, parsed: str | None, reward: float | None = None) -> VerifyResult:
    r = float(correct) if reward is None else reward
    return VerifyResult(
        reward=r, correct=correct, status="ok" if parsed else "no_answer", parsed=parsed
    )


def _group(rows: list[tuple[str, bool, str | None]], seed: int = 0, step: int = 0) -> GroupOutcome:
    texts = [t for t, _, _ in rows]
    return GroupOutcome(PROBLEM, texts, [_v(c, p) for _, c, p in rows], seed=seed, step=step)


def _pos(group: GroupOutcome, row: int) -> str | None:
    return CONTEXTS.get("correct_sibling")(group, row, TEMPLATES)


def _neg(name: str, group: GroupOutcome, row: int, k: int) -> list[str]:
    return NEGATIVE_CONTEXTS.get(name)(group, row, k, TEMPLATES)


# ----------------------------------------------------------------------------- RLCSD
def test_rlcsd_drops_rows_without_a_valid_correct_sibling() -> None:
    group = _group([("c", True, "5"), ("w1", False, "6"), ("w2", False, "7")])
    assert _pos(group, 0) is None  # the lone correct rollout: no other correct sibling
    assert _pos(group, 1) == "Compute 2+3. [c => 5]"  # wrong rows see it, answer filled in
    all_wrong = _group([("w1", False, "6"), ("w2", False, "7")])
    assert _pos(all_wrong, 0) is None and _pos(all_wrong, 1) is None


def test_rlcsd_skips_siblings_whose_text_equals_the_rows() -> None:
    # Rows 0, 1 are the same correct text, row 2 another correct one; rows 3, 4 the same wrong
    # text, row 5 another wrong one.
    group = _group(
        [
            ("same", True, "5"),
            ("same", True, "5"),
            ("other", True, "5"),
            ("bad", False, "6"),
            ("bad", False, "6"),
            ("worse", False, "9"),
        ]
    )
    for seed in range(20):  # whatever the draw
        g = GroupOutcome(group.problem, group.texts, group.verdicts, seed=seed)
        assert _pos(g, 0) == "Compute 2+3. [other => 5]"  # never its copy, row 1
        assert _neg("wrong_sibling", g, 3, 4) == ["Compute 2+3. [worse => 9]"]  # never row 4
    only_copies = _group([("same", True, "5"), ("same", True, "5"), ("w", False, "6")])
    assert _pos(only_copies, 0) is None


def test_rlcsd_negatives_random_with_repeated_answers_reproducible_from_seed_and_step() -> None:
    # Five wrong siblings, three with the answer 6: up to K = 3 drawn without replacement, so
    # an answer may repeat (a frequency-weighted mixture), never a slot twice.
    rows = [("c0", True, "5"), ("c1", True, "5")]
    rows += [(f"w{i}", False, a) for i, a in enumerate(["6", "6", "6", "7", "8"])]
    rows.append(("nobox", False, None))  # no parsed answer: never a negative
    draws = {}
    for seed in range(3):
        for step in range(10):
            neg = _neg("wrong_sibling", _group(rows, seed, step), 0, 3)
            assert len(neg) == 3 and len(set(neg)) == 3  # distinct siblings
            assert not any("nobox" in n for n in neg)
            assert neg == _neg("wrong_sibling", _group(rows, seed, step), 0, 3)  # reproducible
            draws[seed, step] = tuple(neg)
    assert len(set(draws.values())) > 1  # the draw depends on (seed, step)
    answers = Counter(n[-2] for d in draws.values() for n in d)
    assert answers["6"] > answers["7"]  # frequency-weighted
    assert any(Counter(n[-2] for n in d)["6"] > 1 for d in draws.values())  # repeats
    # Fewer wrong siblings than K: all of them (a wrong row never gets itself).
    small = _group([("c", True, "5"), ("w1", False, "6"), ("w2", False, "7")])
    assert sorted(_neg("wrong_sibling", small, 1, 4)) == ["Compute 2+3. [w2 => 7]"]


def test_rlcsd_positive_is_random_and_reproducible() -> None:
    rows = [("c0", True, "5"), ("c1", True, "5"), ("c2", True, "5"), ("w", False, "6")]
    picks = {_pos(_group(rows, 0, step), 3) for step in range(20)}
    assert picks == {f"Compute 2+3. [c{i} => 5]" for i in range(3)}
    assert _pos(_group(rows, 1, 4), 3) == _pos(_group(rows, 1, 4), 3)


def test_rlcsd_positive_and_negatives_share_the_template() -> None:
    group = _group([("c0", True, "5"), ("c1", True, "5"), ("w", False, "6")])
    assert _pos(group, 2) in {"Compute 2+3. [c0 => 5]", "Compute 2+3. [c1 => 5]"}
    assert _neg("wrong_sibling", group, 0, 4) == ["Compute 2+3. [w => 6]"]


# ----------------------------------------------------------------------------- CEPO
def _answer_of(contexts: list[str]) -> list[str]:
    return [c.removeprefix("Compute 2+3. (Reference answer: ").removesuffix(")") for c in contexts]


def test_cepo_worst_rejected_rollout_for_every_row_including_itself() -> None:
    # Rejected rows 1 (reward 0.3), 2 (reward 0), 3 (reward 0): the worst is the lowest reward,
    # ties → the first index: row 2. Every row, row 2 itself included, gets its answer "7".
    verdicts = [_v(True, "5"), _v(False, "6", 0.3), _v(False, "7", 0.0), _v(False, "8", 0.0)]
    group = GroupOutcome(PROBLEM, ["a", "b", "c", "d"], verdicts)
    for row in range(4):
        assert _answer_of(_neg("wrong_answer", group, row, 1)) == ["7"]


def test_cepo_lone_wrong_rollout_is_contrasted_with_its_own_answer() -> None:
    group = GroupOutcome(PROBLEM, ["a", "b"], [_v(True, "5"), _v(False, "6")])
    assert _answer_of(_neg("wrong_answer", group, 1, 1)) == ["6"]
    # The per-row option never uses the row's own answer: nothing to contrast with.
    assert _neg("wrong_answer_distinct", group, 1, 1) == []


def test_cepo_unparsed_answer_uses_its_first_50_characters() -> None:
    text = "x" * 30 + "y" * 40
    group = GroupOutcome(PROBLEM, ["a", text], [_v(True, "5"), _v(False, None)])
    assert _answer_of(_neg("wrong_answer", group, 0, 1)) == [text[:50]]


def test_cepo_group_without_a_rejected_rollout_has_no_negative() -> None:
    group = GroupOutcome(PROBLEM, ["a", "b"], [_v(True, "5"), _v(True, "5")])
    assert _neg("wrong_answer", group, 0, 1) == []
