"""The contract every registered algorithm must pass — importable by plugin packages.

Use in a plugin's tests::

    from creditzoo.testing import check_algorithm
    def test_contract():
        check_algorithm("myalgo")

creditzoo's own suite runs ``check_algorithm`` over ``list_algorithms()``. Each check asserts one
property: shape, zero outside the mask, finite, no grad, determinism, row-permutation
equivariance within a group, invariance to extra right padding, and a clear error when a
required field is missing.

``fit_config`` and ``read_scalars`` help a plugin's integration test run a short ``fit`` and read
back what it logged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from omegaconf import DictConfig

from creditzoo.algorithms import build_algorithm
from creditzoo.types import OPTIONAL_FIELDS, Credit, RolloutBatch


def make_batch(
    num_groups: int = 3,
    group_size: int = 4,
    max_len: int = 7,
    *,
    num_negatives: int = 2,
    vocab: int = 50,
    top_k: int = 5,
    seed: int = 0,
) -> RolloutBatch:
    """A random but realistic batch with every optional field filled.

    Rewards mix correct and wrong rows in most groups (and one all-equal group); response
    lengths vary so padding is exercised; log-probs are ≤ 0.
    """
    g = torch.Generator().manual_seed(seed)
    n = num_groups * group_size
    rewards = (torch.rand(n, generator=g) > 0.5).float()
    rewards[:group_size] = 1.0  # one group without signal
    lengths = torch.randint(1, max_len + 1, (n,), generator=g)
    lengths[0] = max_len
    mask = torch.arange(max_len)[None, :] < lengths[:, None]

    def logp(*shape: int) -> torch.Tensor:
        return -torch.rand(*shape, generator=g) * 3.0

    def masked(t: torch.Tensor) -> torch.Tensor:
        m = mask if t.dim() == 2 else mask[:, None, :]
        return t * m

    # Process labels: correct rows all 1; a wrong row 1 before a random first error, 0 on the
    # error (1–2 tokens), -1 after it and on padding.
    start = (torch.rand(n, generator=g) * lengths).long()
    pos = torch.arange(max_len)[None, :]
    labels = torch.where(pos < start[:, None], 1, torch.where(pos < start[:, None] + 2, 0, -1))
    labels = torch.where(rewards[:, None] > 0, 1, labels).masked_fill(~mask, -1)

    return RolloutBatch(
        rewards=rewards,
        group_ids=torch.arange(num_groups).repeat_interleave(group_size),
        response_mask=mask,
        logprobs=masked(logp(n, max_len)),
        step=3,
        teacher_logprobs=masked(logp(n, max_len)),
        teacher_mask=torch.arange(n) % 7 != 3,  # a few rows whose positive context is absent
        neg_teacher_logprobs=masked(logp(n, num_negatives, max_len)),
        neg_mask=torch.ones(n, num_negatives, dtype=torch.bool),
        entropies=masked(
            torch.rand(n, max_len, generator=g) * float(torch.log(torch.tensor(vocab)))
        ),
        teacher_entropies=masked(torch.rand(n, max_len, generator=g) * 2.0),
        ref_logprobs=masked(logp(n, max_len)),
        teacher_topk_ids=torch.randint(0, vocab, (n, max_len, top_k), generator=g),
        teacher_topk_logprobs=torch.log_softmax(
            torch.randn(n, max_len, top_k + 1, generator=g), -1
        )[..., :top_k],
        process_labels=labels,
    )


def _compute(name: str, batch: RolloutBatch) -> Credit:
    return build_algorithm(name)(batch)


def check_shape_and_mask(name: str) -> None:
    batch = make_batch()
    credit = _compute(name, batch)
    adv = credit.advantages
    assert adv.shape == batch.response_mask.shape, f"{name}: advantages {tuple(adv.shape)}"
    assert adv.dtype.is_floating_point, f"{name}: advantages must be float"
    assert torch.all(adv[~batch.response_mask] == 0.0), f"{name}: non-zero outside the mask"
    assert torch.isfinite(adv).all(), f"{name}: non-finite advantages"
    assert not adv.requires_grad, f"{name}: advantages carry grad"
    for key, value in credit.metrics.items():
        assert isinstance(value, (int, float)), f"{name}: metric {key} is not a float"


def check_no_grad_leak(name: str) -> None:
    batch = make_batch()
    leaky = batch.replace(logprobs=batch.logprobs.clone().requires_grad_(True))
    adv = _compute(name, leaky).advantages
    assert not adv.requires_grad, f"{name}: compute() must not build a graph"


def check_deterministic(name: str) -> None:
    batch = make_batch()
    a, b = _compute(name, batch).advantages, _compute(name, batch).advantages
    assert torch.equal(a, b), f"{name}: compute() is not deterministic"


def check_permutation_equivariance(name: str) -> None:
    """Shuffling rows within groups shuffles the advantages the same way."""
    batch = make_batch()
    g = torch.Generator().manual_seed(1)
    perm = torch.cat(
        [
            idx[torch.randperm(idx.numel(), generator=g)]
            for idx in (
                torch.nonzero(batch.group_ids == gid).flatten() for gid in batch.group_ids.unique()
            )
        ]
    )
    permuted = _permute(batch, perm)
    expected = _compute(name, batch).advantages[perm]
    got = _compute(name, permuted).advantages
    torch.testing.assert_close(got, expected, msg=f"{name}: not permutation-equivariant")


def check_padding_invariance(name: str) -> None:
    """Extra right padding changes nothing on real tokens."""
    batch = make_batch()
    padded = _pad(batch, extra=3)
    base = _compute(name, batch).advantages
    got = _compute(name, padded).advantages
    torch.testing.assert_close(got[:, : base.shape[1]], base, msg=f"{name}: padding changes credit")
    assert torch.all(got[:, base.shape[1] :] == 0.0)


def check_missing_required_field(name: str) -> None:
    algo = build_algorithm(name)
    batch = make_batch()
    for field in sorted(algo.requires):
        if field in OPTIONAL_FIELDS:
            stripped = batch.replace(**{field: None})
        else:  # plugin extras ("pkg/field")
            stripped = batch.replace(extras={})
        try:
            algo(stripped)
        except ValueError as err:
            assert field in str(err), f"{name}: error for missing {field} does not name it"
        else:
            raise AssertionError(f"{name}: missing required field {field} was not reported")


CHECKS: dict[str, Callable[[str], None]] = {
    "shape_and_mask": check_shape_and_mask,
    "no_grad_leak": check_no_grad_leak,
    "deterministic": check_deterministic,
    "permutation_equivariance": check_permutation_equivariance,
    "padding_invariance": check_padding_invariance,
    "missing_required_field": check_missing_required_field,
}


def check_algorithm(name: str) -> None:
    """Run every contract check on the algorithm registered as ``name``."""
    for check in CHECKS.values():
        check(name)


def _permute(batch: RolloutBatch, perm: torch.Tensor) -> RolloutBatch:
    changes = {
        "rewards": batch.rewards[perm],
        "group_ids": batch.group_ids[perm],
        "response_mask": batch.response_mask[perm],
        "logprobs": batch.logprobs[perm],
    }
    for f in OPTIONAL_FIELDS:
        value = getattr(batch, f)
        if value is not None:
            changes[f] = value[perm]
    changes["extras"] = {k: v[perm] for k, v in batch.extras.items()}
    return batch.replace(**changes)


def _pad(batch: RolloutBatch, extra: int) -> RolloutBatch:
    def pad(t: torch.Tensor | None, value: float = 0.0) -> torch.Tensor | None:
        return None if t is None else torch.nn.functional.pad(t, (0, extra), value=value)

    def pad_time(t: torch.Tensor | None) -> torch.Tensor | None:  # [N, T, ...]: pad dim 1
        if t is None:
            return None
        return torch.nn.functional.pad(t, (0, 0) * (t.dim() - 2) + (0, extra))

    changes = {
        "response_mask": pad(batch.response_mask, False),
        "logprobs": pad(batch.logprobs),
        "process_labels": pad(batch.process_labels, -1),
    }
    for f in (
        "teacher_logprobs",
        "neg_teacher_logprobs",  # [N, K, T]: time is last
        "entropies",
        "teacher_entropies",
        "ref_logprobs",
    ):
        changes[f] = pad(getattr(batch, f))
    for f in ("teacher_topk_ids", "teacher_topk_logprobs"):
        changes[f] = pad_time(getattr(batch, f))
    changes["extras"] = {k: pad_time(v) for k, v in batch.extras.items()}
    return batch.replace(**changes)


def fit_config(overrides: list[str]) -> DictConfig:
    """The composed ``fit`` config with command-line style overrides."""
    return compose_config("fit", overrides)


def compose_config(name: str, overrides: list[str]) -> DictConfig:
    """A composed CLI config (``fit``, ``eval``) with command-line style overrides."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from creditzoo.hydra_app import register_configs

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_module("creditzoo.configs", version_base="1.3"):
        return compose(name, overrides=overrides)


def read_scalars(run_dir: str | Path) -> dict[str, list[float]]:
    """Every TensorBoard scalar a run logged, ``{tag: [value per logged step]}``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(Path(run_dir) / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
