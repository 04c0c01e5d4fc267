"""A real vLLM engine against transformers on the tiny model: same tokens before and after a
weight push, engine log-probs equal to the trainer's, HF output conventions."""

import copy

import pytest
import torch

from creditzoo.data.arith import test_split as arith_split
from creditzoo.data.prompts import PromptRenderer
from creditzoo.models.factory import build_model
from creditzoo.rollout.hf import HFSampler
from creditzoo.rollout.sampler import build_sampler
from creditzoo.rollout.scoring import score_tokens

pytestmark = pytest.mark.vllm
MAX_NEW = 40


@pytest.fixture(scope="module")
def setup():
    model, tokenizer = build_model("tiny")
    prompts = [PromptRenderer(tokenizer)(p) for p in arith_split("id", 8)]
    sampler = build_sampler("vllm", model, tokenizer)
    yield model, tokenizer, prompts, sampler
    sampler.close()


def _greedy_hf(model, tokenizer, prompts):
    return HFSampler(model, tokenizer).generate(prompts, max_new_tokens=MAX_NEW, temperature=0.0)


def _perturbed(model: torch.nn.Module) -> torch.nn.Module:
    """The same model with every weight moved, the tied embedding / lm_head included."""
    other = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.3 * p.std().clamp(min=1e-3))
    return other


def test_greedy_matches_hf_before_and_after_a_push(setup) -> None:
    model, tokenizer, prompts, sampler = setup
    hf_a = _greedy_hf(model, tokenizer, prompts)
    got = sampler.generate(prompts, max_new_tokens=MAX_NEW, temperature=0.0)
    assert got.texts == hf_a.texts
    # Same conventions as the HF engine: identical left-padded prompts, ids and masks.
    assert torch.equal(got.prompt_ids, hf_a.prompt_ids)
    assert torch.equal(got.prompt_mask, hf_a.prompt_mask)
    assert torch.equal(got.response_mask, hf_a.response_mask)
    assert torch.equal(got.response_ids[got.response_mask], hf_a.response_ids[hf_a.response_mask])

    changed = _perturbed(model)
    assert model.model.embed_tokens.weight is model.lm_head.weight  # tied
    assert changed.model.embed_tokens.weight is changed.lm_head.weight
    hf_b = _greedy_hf(changed, tokenizer, prompts)
    assert sum(a != b for a, b in zip(hf_a.texts, hf_b.texts, strict=True)) >= len(prompts) // 2

    sampler.sync_weights(changed)
    after = sampler.generate(prompts, max_new_tokens=MAX_NEW, temperature=0.0)
    assert after.texts == hf_b.texts
    assert after.texts != hf_a.texts
    assert sampler.metrics()["sync_seconds"] > 0

    sampler.sync_weights(model)  # and back: the engine follows the policy both ways
    assert sampler.generate(prompts, max_new_tokens=MAX_NEW, temperature=0.0).texts == hf_a.texts


@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_engine_logprobs_are_the_sampling_distributions(setup, temperature: float) -> None:
    """vLLM's log-probs of its sampled tokens equal the trainer's at the same temperature
    (processed log-probs: raw ones would be off by the temperature scaling)."""
    model, _, prompts, sampler = setup
    torch.manual_seed(0)
    seqs = sampler.generate(prompts * 2, max_new_tokens=MAX_NEW, temperature=temperature)
    assert seqs.logprobs is not None and seqs.logprobs.shape == seqs.response_ids.shape
    with torch.no_grad():
        trainer = score_tokens(
            model,
            seqs.prompt_ids,
            seqs.prompt_mask,
            seqs.response_ids,
            seqs.response_mask,
            temperature=temperature,
        ).logprobs
    m = seqs.response_mask
    gap = (trainer - seqs.logprobs).abs()[m]
    assert float(gap.max()) < 1e-3, float(gap.max())
    assert float(seqs.logprobs[~m].abs().sum()) == 0.0
    assert float(seqs.logprobs[m].mean()) < -0.01  # sampled, not argmax: some mass elsewhere


def test_sampling_follows_torch_seed(setup) -> None:
    _, _, prompts, sampler = setup
    draws = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        draws.append(sampler.generate(prompts, max_new_tokens=MAX_NEW, temperature=1.0).texts)
    assert draws[0] == draws[1] and draws[0] != draws[2]
