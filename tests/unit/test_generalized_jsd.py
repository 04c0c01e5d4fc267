"""The generalized JSD of OPSD on hand-computed two-bucket distributions."""

import math

import pytest
import torch

from creditzoo.losses import generalized_jsd

LOG = math.log
S = torch.tensor([[LOG(0.5), LOG(0.5)]])  # student p_S = [0.5, 0.5]
T = torch.tensor([[LOG(0.8), LOG(0.2)]])  # teacher p_T = [0.8, 0.2]


def _jsd(s, t, **kw):
    return float(generalized_jsd(s, t, add_tail=False, **kw)[0])


def test_beta0_is_forward_kl() -> None:
    # KL(T‖S) = 0.8·log(0.8/0.5) + 0.2·log(0.2/0.5) = 0.8·0.470004 + 0.2·(−0.916291) = 0.192745
    assert _jsd(S, T, beta=0.0) == pytest.approx(0.192745, abs=1e-6)


def test_beta1_is_reverse_kl() -> None:
    # KL(S‖T) = 0.5·log(0.5/0.8) + 0.5·log(0.5/0.2) = 0.5·(−0.470004) + 0.5·0.916291 = 0.223144
    assert _jsd(S, T, beta=1.0) == pytest.approx(0.223144, abs=1e-6)


def test_beta_half_is_symmetric_jsd() -> None:
    # M = [0.65, 0.35]; KL(T‖M) = 0.8·log(0.8/0.65) + 0.2·log(0.2/0.35) = 0.054188;
    # KL(S‖M) = 0.5·log(0.5/0.65) + 0.5·log(0.5/0.35) = 0.047155; JSD = (0.054188+0.047155)/2.
    assert _jsd(S, T, beta=0.5) == pytest.approx(0.050672, abs=1e-6)
    assert _jsd(T, S, beta=0.5) == pytest.approx(0.050672, abs=1e-6)


def test_clip_rescales_the_position_and_keeps_the_gradient_direction() -> None:
    # β = 0: D = KL(T‖S) = 0.192745 (terms [0.376003, −0.183258]). Clip 0.1 → value 0.1, and the
    # gradient is ∇D scaled by 0.1/0.192745 = 0.518821 (a per-bucket clamp would give −0.083258).
    s = S.clone().requires_grad_(True)
    clipped = generalized_jsd(s, T, beta=0.0, token_clip=0.1, add_tail=False)
    assert float(clipped[0]) == pytest.approx(0.1, abs=1e-6)
    clipped.sum().backward()
    s_free = S.clone().requires_grad_(True)
    generalized_jsd(s_free, T, beta=0.0, add_tail=False).sum().backward()
    torch.testing.assert_close(s.grad, s_free.grad * (0.1 / 0.192745), atol=1e-6, rtol=1e-5)
    # Below the bound the clip does nothing.
    assert _jsd(S, T, beta=0.0, token_clip=1.0) == pytest.approx(0.192745, abs=1e-6)


def test_tail_bucket() -> None:
    # Top-2 of a larger vocabulary. Student [0.5, 0.25] → tail 0.25; teacher [0.25, 0.25] → 0.5.
    # β = 0: 0.25·log(0.25/0.5) + 0.25·log 1 + 0.5·log(0.5/0.25) = −0.173287 + 0 + 0.346574.
    s = torch.tensor([LOG(0.5), LOG(0.25)])
    t = torch.tensor([LOG(0.25), LOG(0.25)])
    assert float(generalized_jsd(s, t)) == pytest.approx(0.173287, abs=1e-6)
    # Clip 0.05 bounds the position's value: min(0.173287, 0.05).
    assert float(generalized_jsd(s, t, token_clip=0.05)) == pytest.approx(0.05, abs=1e-6)
    # Without the tail both sides are renormalised: S = [2/3, 1/3], T = [1/2, 1/2]:
    # 0.5·log(0.5/(2/3)) + 0.5·log(0.5/(1/3)) = 0.5·(−0.287682) + 0.5·0.405465 = 0.058892.
    assert float(generalized_jsd(s, t, add_tail=False)) == pytest.approx(0.058892, abs=1e-6)


def test_full_support_tail_is_finite() -> None:
    # Σ p = 1 → the tail is log(1 − e^{−1e-7}) ≈ −16.1 on both sides: finite and contributes 0.
    out = generalized_jsd(S, T, beta=0.0)
    assert torch.isfinite(out).all()
    assert float(out[0]) == pytest.approx(0.192745, abs=1e-5)


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("add_tail", [True, False])
def test_zero_when_teacher_equals_student(beta: float, add_tail: bool) -> None:
    g = torch.Generator().manual_seed(0)
    logp = torch.log_softmax(torch.randn(3, 4, 9, generator=g), -1)[..., :6]  # top-6 of 9
    out = generalized_jsd(logp, logp.clone(), beta=beta, token_clip=0.05, add_tail=add_tail)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out, torch.zeros(3, 4), atol=1e-6, rtol=0)


def test_gradient_reaches_the_student_only() -> None:
    s = S.clone().requires_grad_(True)
    t = T.clone().requires_grad_(True)
    generalized_jsd(s, t, beta=0.5).sum().backward()
    assert s.grad is not None and torch.isfinite(s.grad).all()
    assert t.grad is None


def test_beta_out_of_range_raises() -> None:
    with pytest.raises(ValueError, match="beta"):
        generalized_jsd(S, T, beta=1.5)
