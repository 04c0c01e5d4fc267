"""Scoring with shared prompts: each distinct prompt prefilled once gives the same numbers."""

import pytest
import torch

from creditzoo.data.arith import test_split as arith_split
from creditzoo.data.prompts import PromptRenderer
from creditzoo.models.factory import build_model
from creditzoo.rollout.hf import HFSampler
from creditzoo.rollout.scoring import distinct_prompts, score_tokens


def test_distinct_prompts_index_rebuilds_every_row() -> None:
    # Rows 0 and 2 are the same left-padded prompt; row 1 differs only in its mask, so it is a
    # different prompt (pad id 0 at a masked position vs token 0 at a real one).
    ids = torch.tensor([[0, 5, 6], [0, 5, 6], [0, 5, 6], [7, 8, 9]])
    mask = torch.tensor([[0, 1, 1], [1, 1, 1], [0, 1, 1], [1, 1, 1]], dtype=torch.bool)
    shared = distinct_prompts(ids, mask)
    assert shared["prompt_ids"].shape == (3, 3)
    index = shared["prompt_index"]
    assert torch.equal(shared["prompt_ids"][index], ids)
    assert torch.equal(shared["prompt_mask"][index], mask)
    assert shared["prompt_mask"].dtype == torch.bool
    assert index[0] == index[2] and len({int(index[0]), int(index[1]), int(index[3])}) == 3


def test_distinct_prompts_without_repeats_is_the_identity() -> None:
    ids, mask = torch.tensor([[1, 2], [3, 4]]), torch.ones(2, 2, dtype=torch.bool)
    assert distinct_prompts(ids, mask) == {"prompt_ids": ids, "prompt_mask": mask}


@pytest.fixture(scope="module")
def grouped():
    """Three problems of different lengths (different left padding) × a group of 4."""
    model, tokenizer = build_model("tiny")
    render = PromptRenderer(tokenizer)
    prompts = [render(p) for p in arith_split("id", 6)[3:6] for _ in range(4)]
    torch.manual_seed(3)
    seqs = HFSampler(model, tokenizer).generate(prompts, max_new_tokens=24, temperature=1.0)
    return model, seqs


@pytest.mark.parametrize("width", [None, 1])
def test_shared_prefill_equals_one_pass_per_row(grouped, width) -> None:
    model, seqs = grouped
    response_ids, response_mask = seqs.response_ids, seqs.response_mask
    if width is not None:  # a one-token response: the prefill's last logit is the whole answer
        response_ids, response_mask = response_ids[:, :width], response_mask[:, :width]
    shared = distinct_prompts(seqs.prompt_ids, seqs.prompt_mask)
    assert shared["prompt_ids"].shape[0] == 3
    options = {"temperature": 0.7, "with_entropy": True, "top_k": 3}
    with torch.no_grad():
        full = score_tokens(
            model, seqs.prompt_ids, seqs.prompt_mask, response_ids, response_mask, **options
        )
        got = score_tokens(
            model, response_ids=response_ids, response_mask=response_mask, **shared, **options
        )
    torch.testing.assert_close(got.logprobs, full.logprobs, atol=2e-5, rtol=0)
    torch.testing.assert_close(got.entropy, full.entropy, atol=2e-5, rtol=0)
    torch.testing.assert_close(got.topk_logprobs, full.topk_logprobs, atol=2e-5, rtol=0)
    assert torch.all(got.logprobs[~response_mask] == 0)


@pytest.mark.parametrize("view", ["lora", "adapters_disabled"])
def test_shared_prefill_through_peft_wrappers(grouped, view) -> None:
    """Through peft's wrappers (their forward takes ``**kwargs``) the cache still reaches the
    model: shared prefill equals one pass per row."""
    from creditzoo.models.lora import AdaptersDisabled, apply_lora

    _, seqs = grouped
    base, _ = build_model("tiny")
    policy = apply_lora(base, r=4)
    for name, p in policy.named_parameters():
        if "lora_B" in name:  # B = 0 at init: make the adapters matter
            torch.nn.init.normal_(p, std=0.5)
    model = policy if view == "lora" else AdaptersDisabled(policy)
    shared = distinct_prompts(seqs.prompt_ids, seqs.prompt_mask)
    with torch.no_grad():
        full = score_tokens(
            model, seqs.prompt_ids, seqs.prompt_mask, seqs.response_ids, seqs.response_mask
        )
        got = score_tokens(
            model, response_ids=seqs.response_ids, response_mask=seqs.response_mask, **shared
        )
    torch.testing.assert_close(got.logprobs, full.logprobs, atol=2e-5, rtol=0)


def test_shared_prefill_gives_the_same_gradients(grouped) -> None:
    """The training pass shares the prompt's KV cache inside the graph: the prompt positions
    still receive the gradient of every row that reads them."""
    model, seqs = grouped
    shared = distinct_prompts(seqs.prompt_ids, seqs.prompt_mask)
    weight = torch.randn(seqs.response_ids.shape, generator=torch.Generator().manual_seed(0))

    def grads(**prompts) -> dict[str, torch.Tensor]:
        model.zero_grad()
        scores = score_tokens(
            model, response_ids=seqs.response_ids, response_mask=seqs.response_mask, **prompts
        )
        (scores.logprobs * weight).sum().backward()
        return {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}

    full = grads(prompt_ids=seqs.prompt_ids, prompt_mask=seqs.prompt_mask)
    got = grads(**shared)
    model.zero_grad()
    assert full.keys() == got.keys() and len(full) == len(list(model.parameters()))
    for name, g in full.items():
        torch.testing.assert_close(got[name], g, atol=1e-4, rtol=1e-4, msg=name)
