"""The process oracle on hand-made groups: every branch (blamed, located, suffix, fallbacks)."""

import pytest
import torch

from creditzoo.algorithms import build_algorithm
from creditzoo.types import RolloutBatch


def _batch(rewards, labels, lengths, group_ids):
    labels = torch.tensor(labels)
    t = labels.shape[1]
    mask = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    return RolloutBatch(
        rewards=torch.tensor(rewards),
        group_ids=torch.tensor(group_ids),
        response_mask=mask,
        logprobs=torch.zeros(len(rewards), t),
        process_labels=labels.masked_fill(~mask, -1),
    )


# One group of 4: rewards [1, 0, 0, 0]: mean 0.25, unbiased std = sqrt(0.25) = 0.5, so
# A = [(1-0.25)/0.5, -0.5, -0.5, -0.5] = [1.5, -0.5, -0.5, -0.5] (eps 1e-6 ignored below).
# Row 0 correct; row 1 wrong with prefix 2 tokens, error 2 tokens, suffix 1; row 2 wrong with
# the error at token 0; row 3 wrong with no located error (unparseable: all -1).
GROUP = _batch(
    [1.0, 0.0, 0.0, 0.0],
    [
        [1, 1, 1, 1, 1],
        [1, 1, 0, 0, -1],
        [0, -1, -1, -1, -1],
        [-1, -1, -1, -1, -1],
    ],
    [5, 5, 3, 4],
    [0, 0, 0, 0],
)


def test_full_suffix_spares_only_the_correct_prefix():
    adv = build_algorithm("oracle")(GROUP).advantages
    a = -0.5
    expected = torch.tensor(
        [
            [1.5] * 5,
            [0.0, 0.0, a, a, a],  # prefix spared; the wrong step and what follows keep A
            [a, a, a, 0.0, 0.0],  # no prefix to spare; padding after 3 tokens
            [a, a, a, a, 0.0],  # nothing located: GRPO's credit
        ]
    )
    assert torch.allclose(adv, expected, atol=1e-5)


def test_zero_suffix_blames_only_the_wrong_step():
    adv = build_algorithm("oracle", suffix="zero")(GROUP).advantages
    a = -0.5
    expected = torch.tensor(
        [
            [1.5] * 5,
            [0.0, 0.0, a, a, 0.0],
            [a, 0.0, 0.0, 0.0, 0.0],
            [a, a, a, a, 0.0],
        ]
    )
    assert torch.allclose(adv, expected, atol=1e-5)


def test_all_wrong_group_gets_nothing_and_lucky_rows_keep_their_credit():
    # Group 0: both wrong (A = 0 everywhere). Group 1: a "lucky" correct row whose steps hold an
    # error (labels 1,0,-1) is still a correct response: it keeps A = +0.7071 on every token.
    # Rewards [1, 0]: mean 0.5, std = sqrt(0.5) = 0.7071, A = ±0.5/0.7071 = ±0.7071.
    batch = _batch(
        [0.0, 0.0, 1.0, 0.0],
        [[1, 0, -1], [0, -1, -1], [1, 0, -1], [1, 1, 0]],
        [3, 3, 3, 3],
        [0, 0, 1, 1],
    )
    adv = build_algorithm("oracle")(batch).advantages
    a = 0.5 / 0.5**0.5
    expected = torch.tensor([[0.0] * 3, [0.0] * 3, [a] * 3, [0.0, 0.0, -a]])
    assert torch.allclose(adv, expected, atol=1e-5)


def test_reduces_to_grpo_without_located_errors():
    batch = GROUP.replace(process_labels=torch.full_like(GROUP.process_labels, -1))
    oracle = build_algorithm("oracle")(batch).advantages
    grpo = build_algorithm("grpo")(batch).advantages
    assert torch.equal(oracle, grpo)


def test_fit_refuses_a_task_without_checkable_steps():
    from creditzoo.config_check import check_config
    from creditzoo.errors import ConfigError
    from creditzoo.testing import fit_config

    cfg = fit_config(["algorithm=oracle", "data=gsm8k"])
    with pytest.raises(ConfigError, match=r"process_labels.*data=gsm8k.*arith"):
        check_config("fit", cfg)
