import os
import re

os.environ["HF_HUB_OFFLINE"] = "1"

import torch

from creditzoo.data.arith import test_split
from creditzoo.models.tiny import ASSETS_DIR, build_tiny_model, load_tiny


def test_param_count_and_config():
    model = build_tiny_model(vocab_size=105, seed=0)
    n = sum(p.numel() for p in model.parameters())
    assert n == 1_049_728 + 105 * 128  # ~1.06M; tied embeddings counted once
    assert model.config.tie_word_embeddings
    assert model.config._attn_implementation == "sdpa"
    again = build_tiny_model(vocab_size=105, seed=0)
    assert torch.equal(model.model.embed_tokens.weight, again.model.embed_tokens.weight)


def test_load_tiny_generates_boxed_answer():
    assert (ASSETS_DIR / "model.safetensors").is_file(), "run python -m creditzoo.models.warmstart"
    torch.set_num_threads(2)
    model, tok = load_tiny()
    assert not model.training and model.dtype == torch.float32
    problem = test_split("id", 1)[0]
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": problem.problem}], add_generation_prompt=True, tokenize=False
    )
    enc = tok(prompt, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, do_sample=False, max_new_tokens=64)
    assert out[0, -1].item() == tok.eos_token_id
    text = tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    assert re.search(r"\\boxed\{-?\d+\}$", text), text
