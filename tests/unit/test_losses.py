"""The shared PPO-clip loss on hand-computed tensors, and its invariance to micro-batching."""

import math

import pytest
import torch

from creditzoo.config_schema import LossSettings
from creditzoo.losses import LossNormalizer, micro_batch_loss, policy_loss
from creditzoo.types import DistillTarget


def _loss(logp, old, adv, mask, agg="token_mean", max_len=None, **kw):
    mask = torch.tensor(mask, dtype=torch.bool)
    norm = LossNormalizer(agg, float(mask.sum()), float(mask.shape[0]), max_len or mask.shape[1])
    return policy_loss(
        torch.tensor(logp),
        torch.tensor(old),
        torch.tensor(adv),
        mask,
        norm.token_weights(mask),
        **kw,
    )


def test_clip_cases_hand_computed() -> None:
    # Ratios r = exp(logp − old) = [1.5, 0.5, 1.1] on three tokens of one row.
    # Token 0: A=+1, r=1.5 > 1.28 → min(1.5, 1.28) = 1.28 → ℓ = −1.28 (clipped).
    # Token 1: A=−1, r=0.5 < 0.8  → min(−0.5, −0.8) = −0.8 → ℓ = +0.8 (clipped).
    # Token 2: A=+2, r=1.1 inside → ℓ = −2.2.
    # token_mean = (−1.28 + 0.8 − 2.2) / 3 = −0.893333.
    logp = [[math.log(1.5), math.log(0.5), math.log(1.1)]]
    loss, stats = _loss(logp, [[0.0, 0.0, 0.0]], [[1.0, -1.0, 2.0]], [[1, 1, 1]])
    assert float(loss) == pytest.approx(-0.893333, abs=1e-5)
    assert stats.clipped == 2 and stats.tokens == 3


def test_pessimistic_side_is_not_clipped() -> None:
    # A=−1 with r=1.5: min(−1.5, −1.28) = −1.5 → ℓ = 1.5 (the unclipped, worse value is kept).
    loss, stats = _loss([[math.log(1.5)]], [[0.0]], [[-1.0]], [[1]])
    assert float(loss) == pytest.approx(1.5)
    assert stats.clipped == 0


def test_aggregation_modes_hand_computed() -> None:
    # Ratio 1 everywhere, so ℓ = −A. Row 0: A=1 on 3 tokens; row 1: A=−2 on 1 token (T=3).
    logp, old = [[0.0] * 3, [0.0] * 3], [[0.0] * 3, [0.0] * 3]
    adv, mask = [[1.0] * 3, [-2.0] * 3], [[1, 1, 1], [1, 0, 0]]
    # token_mean: (−1−1−1+2)/4 = −0.25
    assert float(_loss(logp, old, adv, mask, "token_mean")[0]) == pytest.approx(-0.25)
    # seq_mean: mean(−3/3, +2/1) = 0.5
    assert float(_loss(logp, old, adv, mask, "seq_mean")[0]) == pytest.approx(0.5)
    # const_norm with T_max = 4: (−3 + 2) / (2·4) = −0.125
    assert float(_loss(logp, old, adv, mask, "const_norm", max_len=4)[0]) == pytest.approx(-0.125)


def test_k3_kl_hand_computed() -> None:
    # A = 0, logp = 0, ref = log 2: d = log 2, k3 = e^d − d − 1 = 2 − 0.693147 − 1 = 0.306853.
    loss, stats = _loss(
        [[0.0]], [[0.0]], [[0.0]], [[1]], ref_logp=torch.tensor([[math.log(2)]]), kl_coef=0.5
    )
    assert float(loss) == pytest.approx(0.5 * 0.306853, abs=1e-6)
    assert stats.kl == pytest.approx(0.306853, abs=1e-6)


def test_unknown_aggregation_is_an_error() -> None:
    with pytest.raises(ValueError, match="token_mean"):
        LossNormalizer("mean", 1.0, 1.0, 1)


@pytest.mark.parametrize("agg", ["token_mean", "seq_mean", "const_norm"])
def test_micro_batching_and_accumulation_give_the_same_gradient(agg: str) -> None:
    """Summing micro-batch losses (gradient accumulation) equals the full-batch loss."""
    torch.manual_seed(0)
    n, t, d = 8, 6, 5
    features = torch.randn(n, t, d)
    weight = torch.randn(d, requires_grad=True)
    old = -torch.rand(n, t)
    adv = torch.randn(n, 1).expand(n, t).clone()
    mask = torch.arange(t)[None, :] < torch.randint(1, t + 1, (n, 1))
    norm = LossNormalizer(agg, float(mask.sum()), float(n), t + 2)

    def grad_for(micro: int) -> torch.Tensor:
        weight.grad = None
        for s in range(0, n, micro):
            sl = slice(s, s + micro)
            logp = torch.nn.functional.logsigmoid(features[sl] @ weight)
            loss, _ = policy_loss(
                logp, old[sl], adv[sl] * mask[sl], mask[sl], norm.token_weights(mask[sl])
            )
            loss.backward()
        return weight.grad.clone()

    full = grad_for(n)
    for micro in (1, 3, 4):
        torch.testing.assert_close(grad_for(micro), full, rtol=1e-5, atol=1e-6)


def test_component_on_the_sampled_token_with_a_clipped_importance_ratio() -> None:
    # A component with ids=None reads the surrogate's own log-prob of y_t. ℓ = (s − t)², target
    # t = −1; logp = [−0.5, −2], old = [−1.5, −1]: ratios e^{1} = 2.718 → clipped to 2, e^{−1} =
    # 0.367879. w = ½ each, weight 1. Value = ½·(2·0.25 + 0.367879·1) = 0.433940.
    # Gradient w·ρ·2(s − t): ½·2·2·0.5 = 1.0 and ½·0.367879·2·(−1) = −0.367879 (ρ carries none).
    from creditzoo.losses import importance_weight

    logp = torch.tensor([[-0.5, -2.0]], requires_grad=True)
    old = torch.tensor([[-1.5, -1.0]])
    torch.testing.assert_close(
        importance_weight(logp, old, 2.0), torch.tensor([[2.0, math.exp(-1.0)]])
    )
    target = DistillTarget(
        ids=None,
        logprobs=torch.full((1, 2, 1), -1.0),
        weight=torch.ones(1, 2),
        divergence=lambda s, t: ((s - t) ** 2).squeeze(-1),
        is_clip=2.0,
    )
    mask = torch.ones(1, 2, dtype=torch.bool)
    loss, _, parts = micro_batch_loss(
        logp, None, old, torch.zeros(1, 2), mask, mask.float() / 2, LossSettings(),
        components={"pen": target},
    )  # fmt: skip
    assert parts["pen"] == pytest.approx(0.433940, abs=1e-6)
    loss.backward()
    assert logp.grad is not None
    torch.testing.assert_close(logp.grad, torch.tensor([[1.0, -math.exp(-1.0)]]))
