"""EGRSD on hand-computed tensors: the entropy gate, its normalisations, the CL lookahead window,
the reduction to rlsd and the sign property."""

import math

import pytest
import torch

from creditzoo import RolloutBatch, TeacherSpec, build_algorithm
from creditzoo.testing import make_batch

# One group, rewards [1, 0]: mean 0.5, unbiased std sqrt(0.5) = 0.707107 → A = ±0.707107.
A = 0.7071068


def _batch(entropies: list[list[float]], mask: list[list[bool]] | None = None) -> RolloutBatch:
    # Row 1's third column is padding unless a mask says otherwise (its values must not matter).
    mask = mask or [[True, True, True], [True, True, False]]
    width = len(entropies[0])
    delta = torch.tensor([[0.5, -0.5, 0.1], [0.5, -0.5, 9.0]])
    return RolloutBatch(
        rewards=torch.tensor([1.0, 0.0]),
        group_ids=torch.tensor([0, 0]),
        response_mask=torch.tensor(mask),
        logprobs=torch.zeros(2, width),
        teacher_logprobs=delta if width == 3 else torch.zeros(2, width),  # logprobs = 0: Δ = this
        teacher_entropies=torch.tensor(entropies),
    )


def test_hand_computed_gate_batch_max_normalisation() -> None:
    # rlsd part (λ = 0.5, ε_w = 0.2), as in test_rlsd: row 0 → 0.777817, 0.636396, 0.744290;
    # row 1 → −0.636396, −0.777817.
    # vocab_size = 0: Z = max real-token entropy = 2.0 (the padding's 99 is ignored).
    # Ĥ = [[0, 0.5, 1], [1, 0.25]] → g = 0.2 + 0.8·(1 − Ĥ) = [[1.0, 0.6, 0.2], [0.2, 0.8]].
    # Â = rlsd·g: 0.777817, 0.381838, 0.148858; −0.127279, −0.622254; padding 0.
    credit = build_algorithm("egrsd").compute(_batch([[0.0, 1.0, 2.0], [2.0, 0.5, 99.0]]))
    expected = torch.tensor([[0.777817, 0.381838, 0.148858], [-0.127279, -0.622254, 0.0]])
    torch.testing.assert_close(credit.advantages, expected, atol=1e-5, rtol=0)
    m = credit.metrics
    assert m["lambda"] == pytest.approx(0.5)
    assert m["gate_mean"] == pytest.approx((1.0 + 0.6 + 0.2 + 0.2 + 0.8) / 5)  # 0.56
    assert m["clip_frac_w"] == pytest.approx(0.8)  # 4 of 5 real tokens hit a bound, as in rlsd
    assert m["delta_abs_mean"] == pytest.approx(0.42, abs=1e-6)  # (0.5+0.5+0.1+0.5+0.5)/5
    # |Â| mean = (0.777817+0.381838+0.148858+0.127279+0.622254)/5 = 0.411609.
    assert m["adv_abs_mean"] == pytest.approx(0.411609, abs=1e-5)


def test_vocab_size_normalisation_and_clamp() -> None:
    # V = 100: log V = 4.605170. H = ln 10 → Ĥ = 0.5 → g = 0.2 + 0.8·0.5 = 0.6;
    # H = 0 → g = 1; H = ln 100 → Ĥ = 1 → g = 0.2; H = 9 > log V → Ĥ clamped to 1 → g = 0.2.
    # With λ0 = 0 the rlsd part is A itself, so Â = ±A·g.
    ln10 = math.log(10.0)
    batch = _batch([[ln10, 0.0, math.log(100.0)], [9.0, ln10, 0.0]])
    got = build_algorithm("egrsd", vocab_size=100, lambda_init=0.0).compute(batch).advantages
    expected = torch.tensor([[A * 0.6, A, A * 0.2], [-A * 0.2, -A * 0.6, 0.0]])
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)  # A carries the 1e-6 eps


def test_lookahead_window_on_a_hand_made_row() -> None:
    # Row 0: 5 real tokens, entropies [2, 0, 0, 2, 2] then padding (9). λ0 = 0 → Â = A·g.
    # Row 1 (all real, entropy 0) only supplies the wrong sibling; Z = max real entropy = 2.
    mask = [[True] * 5 + [False], [True] * 6]
    batch = _batch([[2.0, 0.0, 0.0, 2.0, 2.0, 9.0], [0.0] * 6], mask)

    def gates(lookahead: int) -> torch.Tensor:
        algo = build_algorithm("egrsd", lambda_init=0.0, lookahead=lookahead)
        return algo.compute(batch).advantages[0, :5] / A

    # K = 0: Ĥ = [1, 0, 0, 1, 1] → g = [0.2, 1, 1, 0.2, 0.2].
    torch.testing.assert_close(gates(0), torch.tensor([0.2, 1.0, 1.0, 0.2, 0.2]))
    # K = 1, window t..t+1 over real tokens: means [1, 0, 1, 2, 2] (t=4: only itself, t=5 is
    # padding) → Ĥ = [0.5, 0, 0.5, 1, 1] → g = [0.6, 1, 0.6, 0.2, 0.2]: the spike at t=0 that is
    # followed by low entropy is gated less than the sustained span t=3..4.
    torch.testing.assert_close(gates(1), torch.tensor([0.6, 1.0, 0.6, 0.2, 0.2]))
    # K = 10 (past the end): means of the rest [8/5, 4/4, 4/3, 2, 2]/2 = Ĥ [0.6, 0.5, 2/3, 1, 1]
    # → g = 0.2 + 0.8·(1 − Ĥ) = [0.52, 0.6, 0.466667, 0.2, 0.2].
    torch.testing.assert_close(gates(10), torch.tensor([0.52, 0.6, 0.2 + 0.8 / 3, 0.2, 0.2]))
    assert torch.all(build_algorithm("egrsd", lookahead=3).compute(batch).advantages[0, 5] == 0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("extra", [{}, {"lookahead": 3}, {"vocab_size": 50, "epsilon_w": 0.5}])
def test_gate_min_one_is_rlsd_exactly(seed: int, extra: dict) -> None:
    batch = make_batch(seed=seed)
    rlsd_params = {k: v for k, v in extra.items() if k == "epsilon_w"}
    got = build_algorithm("egrsd", gate_min=1.0, **extra).compute(batch).advantages
    want = build_algorithm("rlsd", **rlsd_params).compute(batch).advantages
    assert torch.equal(got, want)


@pytest.mark.parametrize("seed", [0, 1])
def test_no_gate_and_no_lambda_is_grpo_exactly(seed: int) -> None:
    batch = make_batch(seed=seed)
    got = build_algorithm("egrsd", gate_min=1.0, lambda_init=0.0).compute(batch).advantages
    assert torch.equal(got, build_algorithm("grpo").compute(batch).advantages)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sign_follows_outcome_advantage_and_gate_bounds(seed: int) -> None:
    batch = make_batch(num_groups=4, group_size=6, seed=seed)
    batch = batch.replace(teacher_logprobs=batch.teacher_logprobs * 5.0)  # large |Δ|
    algo = build_algorithm("egrsd", lambda_init=1.0, epsilon_w=0.9, gate_min=0.1, lookahead=2)
    got = algo.compute(batch).advantages
    rlsd = build_algorithm("rlsd", lambda_init=1.0, epsilon_w=0.9).compute(batch).advantages
    m = batch.response_mask
    assert torch.equal(torch.sign(got[m]), torch.sign(rlsd[m]))
    # g ∈ [g_min, 1]: |Â| between 0.1·|rlsd| and |rlsd|.
    assert torch.all(got[m].abs() <= rlsd[m].abs() + 1e-7)
    assert torch.all(got[m].abs() >= 0.1 * rlsd[m].abs() - 1e-7)


def test_invalid_parameters_raise() -> None:
    for bad in ({"gate_min": 1.5}, {"gate_min": -0.1}, {"lookahead": -1}, {"vocab_size": 1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            build_algorithm("egrsd", **bad)
    with pytest.raises(ValueError, match="lambda_init"):
        build_algorithm("egrsd", lambda_init=2.0)


def test_attributes() -> None:
    algo = build_algorithm("egrsd")
    assert algo.requires == frozenset({"teacher_logprobs", "teacher_entropies"})
    assert algo.components == frozenset()
    assert algo.teacher_spec() == TeacherSpec(context="answer", weights="snapshot")
    assert (algo.gate_min, algo.lookahead, algo.vocab_size, algo.lambda_init) == (0.2, 0, 0, 0.5)


def test_fit_fills_the_models_vocabulary_size() -> None:
    """``creditzoo fit`` gives EGRSD the model's V when ``vocab_size`` is left at 0."""
    from creditzoo.compose import algorithm_from_config, fill_vocab_size, model_vocab_size
    from creditzoo.models.factory import build_model
    from creditzoo.testing import fit_config

    policy, _ = build_model("tiny")
    v = model_vocab_size(policy)
    assert v == policy.get_output_embeddings().weight.shape[0]  # the logits' width
    assert algorithm_from_config(fit_config(["algorithm=egrsd"]), vocab_size=v).vocab_size == v
    assert algorithm_from_config(fit_config(["algorithm=egrsd"])).vocab_size == 0  # unknown
    chosen = fit_config(["algorithm=egrsd", "algorithm.vocab_size=50"])
    assert algorithm_from_config(chosen, vocab_size=v).vocab_size == 50  # the user's stands
    grpo = algorithm_from_config(fit_config(["algorithm=grpo"]), vocab_size=v)
    assert fill_vocab_size(grpo, v) is grpo  # no such parameter: untouched
    assert model_vocab_size(torch.nn.Linear(2, 2)) is None
